/**
 * Coded problems found in a script's text or its embedded metadata. The region answers 400 with
 * them (MAAS answers its form errors the same way: one message per field).
 */
export type ScriptMetadataErrorCode =
  /** The text does not start with `#!` ("Must start with shebang."). */
  | 'MISSING_SHEBANG'
  /** A non-blank line inside the block has no `#` ('Missing "#" on YAML line.'). */
  | 'MISSING_HASH'
  /** The block is not YAML ("Invalid YAML: ..."). */
  | 'INVALID_YAML'
  /** A start marker without its end marker. */
  | 'UNCLOSED_BLOCK'
  /** A key holds a value of the wrong type or outside the accepted values. */
  | 'INVALID_VALUE'
  /** A value that must be given is missing (a parameter's `type`, a choice's `choices`). */
  | 'MISSING_VALUE'
  /** A key the parameter spec or `packages` mapping does not know. */
  | 'UNKNOWN_KEY'
  /** Two spellings of one key disagree (`type` and `script_type`). */
  | 'CONFLICTING_KEYS';

export interface ScriptMetadataError {
  code: ScriptMetadataErrorCode;
  /** Dotted path of the offending key, e.g. `timeout` or `parameters.storage.type`. */
  key?: string;
  /** 1-based line of the script text, for block-level problems. */
  line?: number;
  message: string;
}

/** Collects errors while a parser walks a value. */
export class ErrorSink {
  readonly errors: ScriptMetadataError[] = [];

  add(code: ScriptMetadataErrorCode, key: string | undefined, message: string, line?: number): void {
    const e: ScriptMetadataError = { code, message };
    if (key !== undefined) e.key = key;
    if (line !== undefined) e.line = line;
    this.errors.push(e);
  }

  get empty(): boolean {
    return this.errors.length === 0;
  }
}
