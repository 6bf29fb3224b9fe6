/**
 * Volatility 3's Intermediate Symbol Format (volatility3/schemas/schema-6.2.0.json): the JSON shape
 * vmsight reads and writes. Addresses are `bigint` here; in JSON they are plain integers, which can
 * exceed 2^53 (see isf-json.ts).
 */

export type IsfTypeDescriptor =
  | { readonly kind: 'base'; readonly name: string }
  | { readonly kind: 'struct' | 'union' | 'enum' | 'class'; readonly name: string }
  | { readonly kind: 'pointer'; readonly subtype: IsfTypeDescriptor }
  | { readonly kind: 'array'; readonly count: number; readonly subtype: IsfTypeDescriptor }
  | {
      readonly kind: 'bitfield';
      readonly bit_position: number;
      readonly bit_length: number;
      readonly type: IsfTypeDescriptor;
    }
  | { readonly kind: 'function' };

export interface IsfField {
  readonly type: IsfTypeDescriptor;
  readonly offset: number;
  readonly anonymous?: boolean;
}

export interface IsfUserType {
  readonly kind: 'struct' | 'union' | 'class';
  readonly size: number;
  readonly fields: Readonly<Record<string, IsfField>>;
}

export interface IsfBaseType {
  readonly kind: 'int' | 'char' | 'bool' | 'float' | 'void';
  readonly size: number;
  readonly signed: boolean;
  readonly endian: 'little' | 'big';
}

export interface IsfEnum {
  readonly size: number;
  readonly base: string;
  readonly constants: Readonly<Record<string, number>>;
}

export interface IsfSymbol {
  readonly address: bigint;
  readonly type?: IsfTypeDescriptor;
  /** Base64 of the bytes at the address (dwarf2json sets it for `linux_banner`). */
  readonly constant_data?: string;
}

export interface IsfSourceInfo {
  readonly kind: string;
  readonly name: string;
  readonly hash_type: string;
  readonly hash_value: string;
}

export interface IsfMetadata {
  readonly format: string;
  readonly producer: {
    readonly name: string;
    readonly version: string;
    readonly datetime?: string;
  };
  readonly linux?: {
    readonly symbols?: readonly IsfSourceInfo[];
    readonly types?: readonly IsfSourceInfo[];
  };
}

export interface IsfDocument {
  readonly metadata: IsfMetadata;
  readonly base_types: Readonly<Record<string, IsfBaseType>>;
  readonly user_types: Readonly<Record<string, IsfUserType>>;
  readonly enums: Readonly<Record<string, IsfEnum>>;
  readonly symbols: Readonly<Record<string, IsfSymbol>>;
}

/** The ISF format version vmsight writes. */
export const ISF_FORMAT_VERSION = '6.2.0';
