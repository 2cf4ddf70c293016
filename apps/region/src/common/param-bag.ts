/**
 * Ordered, multi-valued string parameters, read-only: what a listing filter or an allocation's
 * constraints are made of (MAAS forms over a QueryDict). The API's request parameters are one;
 * services that take filters take this, never the HTTP type.
 */
export interface ParamBag {
  /** First value of `name`, or undefined. */
  get(name: string): string | undefined;
  /** All values of `name` in order (empty when absent). */
  getAll(name: string): string[];
  /** Whether `name` has at least one value. */
  has(name: string): boolean;
  /** Parameter names in first-seen order. */
  names(): string[];
}
