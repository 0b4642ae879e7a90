// C sources imported as text (bun build embeds them in the executable).
declare module "*.c" {
  const source: string;
  export default source;
}
