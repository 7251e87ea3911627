// Minimal types for the generated OTLP protobufjs root (the package ships a large .d.ts that
// Deno cannot resolve through the subpath import): only what the fake receiver calls.
interface GeneratedType {
  decode(bytes: Uint8Array): unknown;
  verify(message: unknown): string | null;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
  encode(message: unknown): { finish(): Uint8Array<ArrayBuffer> };
}
declare const root: {
  opentelemetry: {
    proto: {
      collector: {
        metrics: {
          v1: {
            ExportMetricsServiceRequest: GeneratedType;
            ExportMetricsServiceResponse: GeneratedType;
          };
        };
      };
    };
  };
};
export default root;
