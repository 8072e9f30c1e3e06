/**
 * What each role may do, as the API decides it (app/auth/deps.py's StaffUser and OwnerUser, and
 * app/customers/service.py): the dashboard only hides what the API would refuse. The switches
 * cover every role of the generated types; a role the API adds fails type-checking here.
 */
import type { Schemas } from "../api/client";

export type Role = Schemas["Role"];
export type InvitedRole = Schemas["InvitedRole"];
export type Action = "manage" | "billing" | "team" | "account";

export function may(role: Role, action: Action): boolean {
  switch (role) {
    case "owner":
      return true;
    case "admin":
      return action === "manage" || action === "team";
    case "member":
      return false;
    default:
      throw new Error(`Unknown role ${role satisfies never}`);
  }
}

/** Whether `actor` may remove a user of role `target`, invite to it or revoke such an invitation:
 * nobody an owner, only owners an admin. */
export function outranks(actor: Role, target: Role): boolean {
  switch (target) {
    case "owner":
      return false;
    case "admin":
      return actor === "owner";
    case "member":
      return actor !== "member";
    default:
      throw new Error(`Unknown role ${target satisfies never}`);
  }
}

/** "Join Acme as an admin" */
export const ROLE_NOUN: Record<Role, string> = { owner: "an owner", admin: "an admin", member: "a member" };

/** The roles an invitation offers, in the order the form lists them. */
export const INVITED_ROLES: Record<InvitedRole, string> = {
  member: "Member: uses the playground and reads conversations, analytics and usage.",
  admin: "Admin: manages chatbots, documents, keys and members.",
};
