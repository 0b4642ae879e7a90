// A part of the broker with a lifecycle. The broker starts its services in
// the order it lists them and stops them in reverse, so each one can rely on
// the ones before it for its whole life.

export interface Service {
  readonly name: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** A service from two functions, for parts that are not classes of their own. */
export function service(name: string, start: () => void | Promise<void>, stop: () => void | Promise<void>): Service {
  return { name, start, stop };
}
