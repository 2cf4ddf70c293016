import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ActionDef, HandlerDef, ResourceDef } from './api.types';

interface CompiledRoute {
  handler: HandlerDef;
  anonymous: boolean;
  regex: RegExp;
  params: string[];
  literalLength: number;
}

export interface RouteMatch {
  auth?: HandlerDef;
  anon?: HandlerDef;
  pathParams: Record<string, string>;
}

/**
 * The single definition of the API: routing, op dispatch and the describe/ document are all
 * derived from the resources registered here, so they cannot drift apart.
 */
@Injectable()
export class ApiRegistry {
  private readonly resources: ResourceDef[] = [];
  private routes: CompiledRoute[] = [];
  private description: { doc: object; hash: string } | null = null;

  register(...resources: ResourceDef[]): void {
    for (const r of resources) {
      this.resources.push(r);
      for (const [h, anonymous] of [
        [r.auth, false],
        [r.anon, true],
      ] as const) {
        if (!h) continue;
        assertDescribedNamesUnique(h);
        this.routes.push(compile(h, anonymous));
      }
    }
    // Most specific (longest literal part) first, so 'machines/op-allocate' style paths and
    // fixed words beat placeholders.
    this.routes.sort((a, b) => b.literalLength - a.literalLength);
    this.description = null;
  }

  match(path: string): RouteMatch | null {
    const normalised = path.endsWith('/') ? path : `${path}/`;
    let found: RouteMatch | null = null;
    for (const r of this.routes) {
      const m = r.regex.exec(normalised);
      if (!m) continue;
      const pathParams: Record<string, string> = {};
      r.params.forEach((p, i) => (pathParams[p] = decodeURIComponent(m[i + 1])));
      if (!found) found = { pathParams };
      else if (JSON.stringify(found.pathParams) !== JSON.stringify(pathParams)) continue;
      if (r.anonymous) found.anon ??= r.handler;
      else found.auth ??= r.handler;
    }
    return found;
  }

  /** Whether a handler of that class name is registered (with that op, when given). */
  has(handlerName: string, op?: string): boolean {
    return this.resources.some((r) =>
      [r.auth, r.anon].some((h) => h?.name === handlerName && (op === undefined || h.actions.some((a) => a.op === op))),
    );
  }

  /** Finds the action for (method, op); op=null means CRUD. */
  static findAction(h: HandlerDef | undefined, method: string, op: string | null): ActionDef | undefined {
    if (!h) return undefined;
    return h.actions.find((a) => a.method === method && a.op === op);
  }

  describe(origin: string): { doc: object; hash: string } {
    if (!this.description) {
      // The hash covers the paths and actions, not the host, so it is stable across regions.
      const canonical = this.buildDescription('');
      const hash = createHash('sha1').update(JSON.stringify(canonical)).digest('hex');
      this.description = { doc: canonical, hash };
    }
    return { doc: this.withOrigin(origin, this.description.hash), hash: this.description.hash };
  }

  apiHash(): string {
    return this.describe('').hash;
  }

  private withOrigin(origin: string, hash: string): object {
    const d = this.buildDescription(origin) as { hash?: string };
    d.hash = hash;
    return d;
  }

  private buildDescription(origin: string): object {
    const handlerDoc = (h: HandlerDef | undefined) =>
      h
        ? {
            name: h.name,
            doc: h.doc,
            path: h.path,
            uri: `${origin}${h.path}`,
            params: placeholders(h.path),
            actions: h.actions
              .filter((a) => !a.undescribed)
              .sort((a, b) => ordinal(a.name, b.name) || ordinal(a.method, b.method))
              .map((a) => ({
                name: a.name,
                method: a.method,
                op: a.op,
                restful: a.op === null,
                doc: actionDoc(a),
              })),
          }
        : null;
    const resources = [...this.resources]
      .filter((r) => !(r.auth ?? r.anon)!.alias)
      .map((r) => ({ name: (r.auth ?? r.anon)!.name, anon: handlerDoc(r.anon), auth: handlerDoc(r.auth) }))
      .sort((a, b) => ordinal(a.name, b.name));
    const handlers = resources.flatMap((r) => [r.anon, r.auth].filter((h) => h !== null));
    return { doc: 'MAAS API', hash: '', resources, handlers };
  }
}

/** MAAS-style action doc: title, description, then :param/:type lines (the CLI needs ':param'). */
export function actionDoc(a: ActionDef): string {
  let doc = a.title;
  if (a.description) doc += `\n\n${a.description}`;
  if (a.params?.length) {
    doc += '\n\n';
    for (const p of a.params) {
      doc += `:param ${p.name}: ${p.required ? 'Required' : 'Optional'}. ${p.doc}\n:type ${p.name}: ${p.type ?? 'String'}\n\n`;
    }
  }
  return doc;
}

/**
 * The maas CLI turns each described action into a subcommand named after it, and argparse refuses a
 * repeated name: one handler with two described actions of a name breaks every command of every
 * profile logged in to this region (MAAS never describes two). Routed-only spellings are undescribed.
 */
function assertDescribedNamesUnique(h: HandlerDef): void {
  const seen = new Set<string>();
  for (const a of h.actions) {
    if (a.undescribed) continue;
    if (seen.has(a.name)) throw new Error(`${h.name} describes two actions named '${a.name}'; mark the older one undescribed`);
    seen.add(a.name);
  }
}

/** Code-point order, as MAAS (Python) sorts names. */
function ordinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function placeholders(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
}

function compile(handler: HandlerDef, anonymous: boolean): CompiledRoute {
  const params = placeholders(handler.path);
  const template = handler.path.endsWith('/') ? handler.path : `${handler.path}/`;
  let literalLength = 0;
  const pattern = template
    .split(/(\{\w+\})/)
    .map((part) => {
      if (/^\{\w+\}$/.test(part)) return '([^/]+)';
      literalLength += part.length;
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { handler, anonymous, regex: new RegExp(`^${pattern}$`), params, literalLength };
}
