// A small Kafka Streams application for test/clients-jvm.test.ts (marked todo
// there: Streams consumes as a consumer group, which the broker does not serve
// yet). Runs as a single-file source program on the classpath install.sh resolves:
//   java -cp "$(cat ~/.cache/kafka-bun/java-client/classpath.txt)" StreamsApp.java BOOTSTRAP IN OUT COUNT
// It upper-cases the values of IN into OUT, stops once COUNT records went
// through (exit 1 when it fails or 30 s pass first), and prints {"processed":COUNT}.
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;

public class StreamsApp {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], in = args[1], out = args[2];
    int count = Integer.parseInt(args[3]);
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "e2e-streams");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class.getName());
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class.getName());
    p.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/kafka-bun-streams-" + ProcessHandle.current().pid());
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    // no InitProducerId yet: the producer inside Streams must not be idempotent
    p.put(StreamsConfig.producerPrefix(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG), "false");

    CountDownLatch done = new CountDownLatch(count);
    StreamsBuilder b = new StreamsBuilder();
    b.<String, String>stream(in).mapValues(v -> v.toUpperCase()).peek((k, v) -> done.countDown()).to(out);
    try (KafkaStreams streams = new KafkaStreams(b.build(), p)) {
      streams.setUncaughtExceptionHandler(e -> {
        System.err.println("streams: " + e);
        return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
      });
      // an application that failed (state ERROR) stops waiting at once
      streams.setStateListener((now, before) -> {
        if (now == KafkaStreams.State.ERROR) while (done.getCount() > 0) done.countDown();
      });
      streams.start();
      boolean ok = done.await(30, TimeUnit.SECONDS) && streams.state() != KafkaStreams.State.ERROR;
      streams.close(Duration.ofSeconds(10));
      if (!ok) {
        System.err.println("streams: did not process " + count + " records (state " + streams.state() + ")");
        System.exit(1);
      }
    }
    System.out.println("{\"processed\":" + count + "}");
    System.exit(0);
  }
}
