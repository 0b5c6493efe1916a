import { isUtf8 } from 'node:buffer';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { readDescriptorSet } from '@nexus-control/client';
import { splitDescriptorSet } from './reflectionDefinition.js';

/*
 * Checks on the wire bytes that decoded messages cannot show. The protobuf runtime decodes a
 * string field's invalid UTF-8 into U+FFFD, so the text recorded would not be what the client
 * sent; other runtimes refuse such a message, and so do we. The check walks the request's
 * bytes with the field types from the descriptor set before the message is decoded.
 */

/** Set on a decoded request whose bytes held invalid UTF-8 in a string field: the field's path. */
export const INVALID_UTF8 = Symbol('invalid UTF-8 field');
/** Set on the stand-in for a request whose bytes are no message of its type: why. */
export const MALFORMED = Symbol('malformed request');

const TYPE_STRING = 9;
const TYPE_MESSAGE = 11;

interface FieldInfo {
  readonly name: string;
  /** String fields, and message fields with their type's full name. */
  readonly kind: 'string' | 'message';
  readonly typeName: string;
}

type MessageIndex = Map<string, Map<number, FieldInfo>>;

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly end: number = bytes.length,
    start = 0,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const byte = this.bytes[this.pos++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new RangeError('varint too long');
    }
  }

  /** Skips a field's value; returns [start, end] of a length-delimited one. */
  skip(wireType: number): [number, number] | undefined {
    switch (wireType) {
      case 0:
        this.varint();
        return undefined;
      case 1:
        this.pos += 8;
        return undefined;
      case 2: {
        const length = this.varint();
        const start = this.pos;
        this.pos += length;
        if (this.pos > this.end) throw new RangeError('truncated field');
        return [start, this.pos];
      }
      case 5:
        this.pos += 4;
        return undefined;
      default:
        throw new RangeError(`wire type ${wireType}`);
    }
  }

  /** Every (field number, wire type, value range) of a message. */
  *fields(): Generator<[number, number, [number, number] | undefined]> {
    while (this.pos < this.end) {
      const tag = this.varint();
      const wireType = tag % 8;
      const field = Math.floor(tag / 8);
      yield [field, wireType, this.skip(wireType)];
    }
  }
}

function text(bytes: Uint8Array, [start, end]: [number, number]): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
}

/** DescriptorProto → its fields, nested types added under their full names. */
function indexMessage(bytes: Uint8Array, range: [number, number], scope: string, index: MessageIndex): void {
  const reader = new Reader(bytes, range[1], range[0]);
  let name = '';
  const fieldRanges: [number, number][] = [];
  const nested: [number, number][] = [];
  for (const [field, , value] of reader.fields()) {
    if (!value) continue;
    if (field === 1) name = text(bytes, value);
    else if (field === 2) fieldRanges.push(value);
    else if (field === 3) nested.push(value);
  }
  const fullName = `${scope}.${name}`;
  const fields = new Map<number, FieldInfo>();
  for (const fieldRange of fieldRanges) {
    const r = new Reader(bytes, fieldRange[1], fieldRange[0]);
    let fieldName = '';
    let number = 0;
    let type = 0;
    let typeName = '';
    for (const [field, , value] of r.fields()) {
      if (field === 1 && value) fieldName = text(bytes, value);
      else if (field === 6 && value) typeName = text(bytes, value).replace(/^\./, '');
    }
    // A second pass reads the two varints (number, type) that fields() skips.
    const v = new Reader(bytes, fieldRange[1], fieldRange[0]);
    while (v.pos < v.end) {
      const tag = v.varint();
      const wireType = tag % 8;
      const field = Math.floor(tag / 8);
      if (wireType === 0) {
        const value = v.varint();
        if (field === 3) number = value;
        else if (field === 5) type = value;
      } else v.skip(wireType);
    }
    if (type === TYPE_STRING) fields.set(number, { name: fieldName, kind: 'string', typeName: '' });
    else if (type === TYPE_MESSAGE) fields.set(number, { name: fieldName, kind: 'message', typeName });
  }
  index.set(fullName, fields);
  for (const child of nested) indexMessage(bytes, child, fullName, index);
}

interface DescriptorIndex {
  readonly messages: MessageIndex;
  /** `/package.Service/Method` → the request message's full name. */
  readonly inputs: Map<string, string>;
}

let cached: DescriptorIndex | undefined;

function descriptorIndex(): DescriptorIndex {
  if (cached) return cached;
  const messages: MessageIndex = new Map();
  const inputs = new Map<string, string>();
  for (const file of splitDescriptorSet(readDescriptorSet())) {
    const reader = new Reader(file);
    let pkg = '';
    const messageRanges: [number, number][] = [];
    const serviceRanges: [number, number][] = [];
    for (const [field, , value] of reader.fields()) {
      if (!value) continue;
      if (field === 2) pkg = text(file, value);
      else if (field === 4) messageRanges.push(value);
      else if (field === 6) serviceRanges.push(value);
    }
    for (const range of messageRanges) indexMessage(file, range, pkg, messages);
    for (const range of serviceRanges) {
      const service = new Reader(file, range[1], range[0]);
      let serviceName = '';
      const methods: [number, number][] = [];
      for (const [field, , value] of service.fields()) {
        if (field === 1 && value) serviceName = text(file, value);
        else if (field === 2 && value) methods.push(value);
      }
      for (const methodRange of methods) {
        const method = new Reader(file, methodRange[1], methodRange[0]);
        let methodName = '';
        let input = '';
        for (const [field, , value] of method.fields()) {
          if (field === 1 && value) methodName = text(file, value);
          else if (field === 2 && value) input = text(file, value).replace(/^\./, '');
        }
        inputs.set(`/${pkg}.${serviceName}/${methodName}`, input);
      }
    }
  }
  cached = { messages, inputs };
  return cached;
}

/** The path of the first string field holding invalid UTF-8, or undefined. Malformed bytes are left to the decoder. */
export function invalidUtf8Field(
  bytes: Uint8Array,
  typeName: string,
  messages: MessageIndex = descriptorIndex().messages,
  depth = 0,
): string | undefined {
  const fields = messages.get(typeName);
  if (!fields || depth > 100) return undefined;
  try {
    for (const [number, , range] of new Reader(bytes).fields()) {
      if (!range) continue;
      const field = fields.get(number);
      if (!field) continue;
      const value = bytes.subarray(range[0], range[1]);
      if (field.kind === 'string') {
        if (!isUtf8(value)) return field.name;
      } else {
        const inner = invalidUtf8Field(value, field.typeName, messages, depth + 1);
        if (inner !== undefined) return `${field.name}.${inner}`;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * A service definition whose request decoding first checks UTF-8 (marking the decoded request
 * with INVALID_UTF8), and whose response encoding passes through bytes already encoded by
 * the RPC runtime (so a response that cannot be encoded fails before its call is logged OK).
 */
export function checkedDefinition<S extends ServiceDefinition>(definition: S): S {
  const { inputs } = descriptorIndex();
  const checked: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const input = inputs.get(method.path);
    const deserialize = method.requestDeserialize;
    const serialize = method.responseSerialize;
    checked[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        // The runtime would answer a request it cannot decode with INTERNAL: it is the client's
        // mistake, so the handler's runtime refuses it with INVALID_ARGUMENT instead.
        let decoded: object;
        try {
          decoded = deserialize(bytes) as object;
        } catch (error) {
          return Object.defineProperty({}, MALFORMED, { value: error instanceof Error ? error.message : String(error) });
        }
        const bad = input === undefined ? undefined : invalidUtf8Field(bytes, input);
        if (bad !== undefined && typeof decoded === 'object' && decoded !== null)
          Object.defineProperty(decoded, INVALID_UTF8, { value: bad });
        return decoded;
      },
      responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : serialize(value)),
    };
  }
  return checked as S;
}

/** `Service/Method` (as the RPC runtime names methods) → the response encoder. */
export function responseEncoders(definitions: readonly ServiceDefinition[]): Map<string, (value: unknown) => Buffer> {
  const encoders = new Map<string, (value: unknown) => Buffer>();
  for (const definition of definitions) {
    for (const method of Object.values(definition)) {
      const [, service = '', name = ''] = /^\/(?:[\w.]+\.)?(\w+)\/(\w+)$/.exec(method.path) ?? [];
      encoders.set(`${service}/${name}`, method.responseSerialize as (value: unknown) => Buffer);
    }
  }
  return encoders;
}
