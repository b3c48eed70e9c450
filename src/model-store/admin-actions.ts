import type { ModelStore } from './store.js';

/** An operator's action on one model: taken by an admin route, repeated by every other cluster worker. */
export type AdminAction = { action: 'reload'; name: string } | { action: 'pin'; name: string; version: string } | { action: 'unpin'; name: string };

/** Carries out the action on this process's store. */
export function applyAdminAction(store: ModelStore, action: AdminAction): Promise<unknown> {
  switch (action.action) {
    case 'reload':
      return store.refresh(action.name);
    case 'pin':
      return store.pin(action.name, action.version);
    case 'unpin':
      return store.unpin(action.name);
  }
}
