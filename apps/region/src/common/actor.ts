/**
 * Who asks a service to do something: a signed-in user, as the services need to know them. The
 * API's authenticated caller (`AuthUser`) is one; an anonymous caller (an enlisting machine) is
 * `null` where a service admits one.
 */
export interface Actor {
  readonly id: number;
  readonly username: string;
  readonly isAdmin: boolean;
}
