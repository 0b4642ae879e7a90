// A small Kafka Streams application for test/clients-jvm.test.ts. Runs as a
// single-file source program on the classpath install.sh resolves:
//   java -cp "$(cat ~/.cache/kafka-bun/java-client/classpath.txt)" StreamsApp.java BOOTSTRAP IN OUT COUNT
// A plain producer first writes COUNT records (key k<i>, value "hello <i>") to
// IN; the topology upper-cases the values of IN into OUT and the app stops once
// COUNT records went through (exit 1 when it fails or 30 s pass first). Then a
// consumer without a group reads OUT back from the start and the admin client
// lists the offsets the application (its consumer group, application.id
// e2e-streams-IN) committed for IN. Prints {"processed":COUNT,"output":[[key,value],...],"committed":{partition:offset}}.
// processing.guarantee is the default at_least_once; its producer is the
// clients' default, idempotent one (InitProducerId, sequenced batches).
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;

public class StreamsApp {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], in = args[1], out = args[2];
    int count = Integer.parseInt(args[3]);
    // one application (and consumer group) per input topic: a closed Streams instance does not
    // leave its group, so a second run under the same id would wait out the first one's session
    String applicationId = "e2e-streams-" + in;

    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.CLIENT_ID_CONFIG, "e2e-streams-input");
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    pp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    pp.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "10000");
    pp.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
      List<Future<RecordMetadata>> futures = new ArrayList<>();
      for (int i = 0; i < count; i++) futures.add(producer.send(new ProducerRecord<>(in, "k" + i, "hello " + i)));
      for (var f : futures) f.get(15, TimeUnit.SECONDS);
    }

    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class.getName());
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class.getName());
    p.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/kafka-bun-streams-" + ProcessHandle.current().pid());
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

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
      // close() commits what was processed
      streams.close(Duration.ofSeconds(10));
      if (!ok) {
        System.err.println("streams: did not process " + count + " records (state " + streams.state() + ")");
        System.exit(1);
      }
    }

    // OUT read back by a consumer of its own (no group), from the start of every partition
    Properties cp = new Properties();
    cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    cp.put(ConsumerConfig.CLIENT_ID_CONFIG, "e2e-streams-output");
    cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    cp.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
      List<TopicPartition> tps = consumer.partitionsFor(out, Duration.ofSeconds(10)).stream().map(i -> new TopicPartition(out, i.partition())).toList();
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (records.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) records.add(r);
      }
      // anything beyond COUNT would be a record written twice
      for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(300))) records.add(r);
    }
    records.sort(java.util.Comparator.comparing((ConsumerRecord<String, String> r) -> Integer.parseInt(r.key().substring(1))));
    List<String> output = new ArrayList<>();
    for (var r : records) output.add("[" + json(r.key()) + "," + json(r.value()) + "]");

    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    ap.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    ap.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    TreeMap<Integer, Long> committed = new TreeMap<>();
    try (Admin admin = Admin.create(ap)) {
      admin.listConsumerGroupOffsets(applicationId).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS)
          .forEach((tp, o) -> { if (tp.topic().equals(in)) committed.put(tp.partition(), o == null ? -1 : o.offset()); });
    }
    List<String> cs = new ArrayList<>();
    committed.forEach((part, o) -> cs.add("\"" + part + "\":" + o));

    System.out.println("{\"processed\":" + count + ",\"output\":[" + String.join(",", output) + "],\"committed\":{" + String.join(",", cs) + "}}");
    System.exit(0);
  }

  static String json(String s) {
    return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
