import type { RequestParams } from './http/params';

/** The authenticated caller of an API request. */
export interface AuthUser {
  id: number;
  username: string;
  email: string;
  isAdmin: boolean;
  tokenKey: string;
}

export interface ApiRequest {
  method: string;
  /** Path as received, e.g. /MAAS/api/2.0/machines/abc123/ */
  path: string;
  params: RequestParams;
  pathParams: Record<string, string>;
  user: AuthUser | null;
  /** scheme://host of the request, for absolute URIs in describe/. */
  origin: string;
}

/** A response other than 200 + JSON. */
export class ApiResponse {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly contentType: string = 'application/json; charset=utf-8',
    readonly headers: Record<string, string> = {},
  ) {}

  /**
   * 204 with MAAS's (Django's default) Content-Type: the maas CLI reads every response's type to
   * decide how to print it, and fails ("'NoneType' object has no attribute 'endswith'") without one.
   */
  static noContent(): ApiResponse {
    return new ApiResponse(204, undefined, 'text/html; charset=utf-8');
  }

  static text(status: number, text: string): ApiResponse {
    return new ApiResponse(status, text, 'text/plain; charset=utf-8');
  }

  /** A JSON document already encoded as a list of chunks, written to the socket in one go. */
  static chunks(chunks: Buffer[]): ApiResponse {
    return new ApiResponse(200, new JsonChunks(chunks));
  }

  /** A JSON document serialised ahead of time (large listings build their JSON directly). */
  static rawJson(json: string): ApiResponse {
    return new ApiResponse(200, new RawJson(json));
  }
}

export class JsonChunks {
  constructor(readonly chunks: Buffer[]) {}
}

export class RawJson {
  constructor(readonly json: string) {}
}

export interface ParamDoc {
  name: string;
  type?: 'String' | 'Int' | 'Boolean' | 'Float';
  required?: boolean;
  doc: string;
}

export type Permission = 'anonymous' | 'authenticated' | 'admin';

export interface ActionDef {
  /** read/create/update/delete for CRUD, otherwise the op name. */
  name: string;
  op: string | null;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  title: string;
  description?: string;
  params?: ParamDoc[];
  /** Who may call it at all; finer checks (owner, locked) happen in the service. */
  permission?: Permission;
  /**
   * Routed, but left out of describe/: an older spelling of an action the handler describes under
   * the same name (the maas CLI makes one subcommand per action name and fails on a repeated one).
   */
  undescribed?: boolean;
  run(req: ApiRequest): Promise<unknown> | unknown;
}

export interface HandlerDef {
  /** MAAS handler class name: clients derive command and object names from it. */
  name: string;
  doc: string;
  /** URI template under the server root, e.g. /MAAS/api/2.0/machines/{system_id}/ */
  path: string;
  actions: ActionDef[];
  /**
   * Another path of a handler described elsewhere (MAAS routes vlans/{vlan_id}/ to the VlanHandler of
   * fabrics/{fabric_id}/vlans/{vid}/): routed, but left out of describe/ so clients see one handler.
   */
  alias?: boolean;
  /**
   * For handlers of one object: throws the handler's 404 when the object does not exist. Checked
   * before an admin-only refusal, as MAAS looks the object up before it checks permissions.
   */
  ensureExists?(pathParams: Record<string, string>): Promise<void>;
}

/** One API resource: its authenticated handler and, where MAAS has one, its anonymous handler. */
export interface ResourceDef {
  auth?: HandlerDef;
  anon?: HandlerDef;
}

export const API_PREFIX = '/MAAS/api/2.0/';
