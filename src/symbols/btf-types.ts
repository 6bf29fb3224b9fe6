/**
 * The BTF type graph (Linux Documentation/bpf/btf.rst, "2. BTF Type and String Encoding"). Each
 * type is a discriminated union member on `kind`; ids are array indexes, id 0 is `void`.
 */

/** BTF_KIND_* values (include/uapi/linux/btf.h). */
export const BtfKind = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;
export type BtfKindName = Lowercase<keyof typeof BtfKind>;

export interface BtfVoid {
  readonly kind: 'void';
  readonly name: '';
}
export interface BtfInt {
  readonly kind: 'int';
  readonly name: string;
  readonly size: number;
  /** BTF_INT_SIGNED (1), BTF_INT_CHAR (2), BTF_INT_BOOL (4) */
  readonly signed: boolean;
  readonly char: boolean;
  readonly bool: boolean;
  readonly bitOffset: number;
  readonly bits: number;
}
/** PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG: a name (typedef/tag) and the type referred to. */
export interface BtfReference {
  readonly kind: 'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag';
  readonly name: string;
  readonly type: number;
}
export interface BtfArray {
  readonly kind: 'array';
  readonly name: '';
  readonly type: number;
  readonly indexType: number;
  readonly count: number;
}
export interface BtfMember {
  readonly name: string;
  readonly type: number;
  /** Offset from the start of the struct, in bits. */
  readonly bitOffset: number;
  /** Non-zero for a bitfield (struct/union with kind_flag set). */
  readonly bitfieldSize: number;
}
export interface BtfComposite {
  readonly kind: 'struct' | 'union';
  readonly name: string;
  readonly size: number;
  readonly members: readonly BtfMember[];
}
export interface BtfEnumerator {
  readonly name: string;
  readonly value: bigint;
}
export interface BtfEnum {
  readonly kind: 'enum' | 'enum64';
  readonly name: string;
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly BtfEnumerator[];
}
export interface BtfFwd {
  readonly kind: 'fwd';
  readonly name: string;
  readonly union: boolean;
}
export interface BtfFunc {
  readonly kind: 'func';
  readonly name: string;
  /** The FUNC_PROTO id. */
  readonly type: number;
  readonly linkage: number;
}
export interface BtfParam {
  readonly name: string;
  readonly type: number;
}
export interface BtfFuncProto {
  readonly kind: 'func_proto';
  readonly name: '';
  readonly returnType: number;
  readonly params: readonly BtfParam[];
}
export interface BtfVar {
  readonly kind: 'var';
  readonly name: string;
  readonly type: number;
  readonly linkage: number;
}
export interface BtfVarSecinfo {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}
export interface BtfDatasec {
  readonly kind: 'datasec';
  readonly name: string;
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}
export interface BtfFloat {
  readonly kind: 'float';
  readonly name: string;
  readonly size: number;
}
export interface BtfDeclTag {
  readonly kind: 'decl_tag';
  readonly name: string;
  readonly type: number;
  /** -1 for the type itself, else the member/parameter index. */
  readonly componentIndex: number;
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfReference
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag;

/** The parsed `.BTF` blob: `types[id]`, with id 0 the implicit `void`. */
export interface BtfGraph {
  readonly types: readonly BtfType[];
  /** Ids of named types by name (structs, unions, typedefs, enums, funcs, vars…), first wins per kind. */
  findByName(name: string, kind?: BtfType['kind']): number | undefined;
}
