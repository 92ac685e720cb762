// Bridges @bufbuild/protobuf v2 service descriptors to @grpc/grpc-js.
// protoc-gen-es generates messages and service descriptors but no grpc-js
// stubs, so we derive a grpc-js ServiceDefinition (paths, serializers) from the
// descriptor. The :path of each method is `/<package>.<Service>/<Method>`,
// exactly what a real TokenSpeed worker routes on.
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type MessageShape, type MessageInitShape } from "@bufbuild/protobuf";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";

type AnyMethod = GenServiceMethods[string];
type In<M extends AnyMethod> = MessageShape<M["input"]>;
type Out<M extends AnyMethod> = MessageShape<M["output"]>;
type OutInit<M extends AnyMethod> = MessageInitShape<M["output"]>;

function serializer<D extends DescMessage>(schema: D) {
  return (msg: MessageShape<D>) => Buffer.from(toBinary(schema, msg));
}

function deserializer<D extends DescMessage>(schema: D) {
  return (buf: Buffer) => fromBinary(schema, buf);
}

/** grpc-js ServiceDefinition for a generated service; keys are the local (camelCase) method names. */
export function toGrpcServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<any, any>> = {};
  for (const m of service.methods) {
    def[m.localName] = {
      path: `/${service.typeName}/${m.name}`,
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: serializer(m.input),
      requestDeserialize: deserializer(m.input),
      responseSerialize: serializer(m.output),
      responseDeserialize: deserializer(m.output),
    };
  }
  return def;
}

/** Server-side handler types for a generated service (grpc-js style). */
export type ServiceImpl<S extends GenServiceMethods> = {
  [K in keyof S]: S[K]["methodKind"] extends "server_streaming"
    ? (call: grpc.ServerWritableStream<In<S[K]>, Out<S[K]>>) => void
    : (call: grpc.ServerUnaryCall<In<S[K]>, Out<S[K]>>, callback: grpc.sendUnaryData<Out<S[K]>>) => void;
};

/** Adds a generated service to a grpc-js server. Missing handlers answer UNIMPLEMENTED. */
export function addService<S extends GenServiceMethods>(server: grpc.Server, service: GenService<S>, impl: Partial<ServiceImpl<S>>): void {
  server.addService(toGrpcServiceDefinition(service), impl as grpc.UntypedServiceImplementation);
}

/** Builds a response message from an init shape (helper for handlers). */
export function reply<D extends DescMessage>(schema: D, init: MessageInitShape<D>): MessageShape<D> {
  return create(schema, init);
}

/** A typed client: unary methods return promises, server-streaming methods return grpc-js readable streams. */
export type ServiceClient<S extends GenServiceMethods> = {
  [K in keyof S]: S[K]["methodKind"] extends "server_streaming"
    ? (req: MessageInitShape<S[K]["input"]>, options?: grpc.CallOptions) => grpc.ClientReadableStream<Out<S[K]>>
    : (req: MessageInitShape<S[K]["input"]>, options?: grpc.CallOptions) => Promise<Out<S[K]>>;
} & { readonly raw: grpc.Client; close(): void };

/** Creates a typed client over a grpc-js channel for a generated service. */
export function createClient<S extends GenServiceMethods>(
  service: GenService<S>,
  address: string,
  options: grpc.ChannelOptions = {},
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): ServiceClient<S> {
  const def = toGrpcServiceDefinition(service);
  const Ctor = grpc.makeGenericClientConstructor(def, service.name);
  const raw = new Ctor(address, credentials, options) as unknown as grpc.Client & Record<string, Function>;
  const client: Record<string, unknown> = { raw, close: () => raw.close() };
  for (const m of service.methods as DescMethod[]) {
    const input = m.input;
    if (m.methodKind === "server_streaming") {
      client[m.localName] = (req: MessageInitShape<DescMessage>, opts: grpc.CallOptions = {}) =>
        raw[m.localName].call(raw, create(input, req), opts);
    } else if (m.methodKind === "unary") {
      client[m.localName] = (req: MessageInitShape<DescMessage>, opts: grpc.CallOptions = {}) =>
        new Promise((resolve, reject) => {
          raw[m.localName].call(raw, create(input, req), opts, (err: grpc.ServiceError | null, res: unknown) =>
            err ? reject(err) : resolve(res),
          );
        });
    }
  }
  return client as ServiceClient<S>;
}

export { grpc };
export type { OutInit };
