import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { ApiFailure, apiClient, type ApiClient, type Json } from './client';
import { loadFeatures, type Features } from './features';

export type KeyInfo = Json<'/api/v1/cpo/api-key'>;

export type SessionState =
  | { kind: 'signed-out'; reason: string | null }
  | { kind: 'checking' }
  | { kind: 'signed-in'; info: KeyInfo; api: ApiClient; features: Features };

/** The key lives in this tab's sessionStorage only: gone when the tab closes, never in a URL, cookie or log. */
const STORAGE_KEY = 'dynamo.apiKey';

export const REASONS = {
  wrong: 'The service does not accept this key: it is wrong, or it has been revoked.',
  revoked: 'The service stopped accepting your key (it was revoked or is no longer valid). Sign in again with a valid key.',
  admin: 'This is the admin key: it manages tenants and keys but reads no fleet. Sign in with a tenant API key.',
} as const;

export class Session {
  private state: SessionState;
  private readonly listeners = new Set<(s: SessionState) => void>();

  constructor(private readonly storage: Storage) {
    this.state = storage.getItem(STORAGE_KEY) ? { kind: 'checking' } : { kind: 'signed-out', reason: null };
  }

  get current(): SessionState {
    return this.state;
  }

  subscribe(fn: (s: SessionState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(s: SessionState) {
    this.state = s;
    for (const fn of this.listeners) fn(s);
  }

  /** Resumes the tab's session after a reload, checking the stored key again. */
  async resume(): Promise<void> {
    const key = this.storage.getItem(STORAGE_KEY);
    if (key) await this.signIn(key, REASONS.revoked);
  }

  /** Checks the key against the API (GET /api/v1/cpo/api-key) and keeps it only if accepted. */
  async signIn(key: string, reasonIfRefused: string = REASONS.wrong): Promise<void> {
    const trimmed = key.trim();
    if (!trimmed) return this.set({ kind: 'signed-out', reason: 'Paste an API key to sign in.' });
    this.set({ kind: 'checking' });
    const api = apiClient(trimmed, () => this.signOut(REASONS.revoked));
    try {
      const [info, features] = await Promise.all([api.ok(api.GET('/api/v1/cpo/api-key')), loadFeatures()]);
      this.storage.setItem(STORAGE_KEY, trimmed);
      this.set({ kind: 'signed-in', info, api, features });
    } catch (err) {
      this.storage.removeItem(STORAGE_KEY);
      const f = err as ApiFailure;
      const reason =
        f.status === 401 ? reasonIfRefused : f.code === 'tenant_key_required' ? REASONS.admin : `Could not sign in: ${f.message}`;
      this.set({ kind: 'signed-out', reason });
    }
  }

  signOut(reason: string | null = null): void {
    this.storage.removeItem(STORAGE_KEY);
    this.set({ kind: 'signed-out', reason });
  }
}

export const SessionContext = createContext<Session | null>(null);

export function useSessionState(session: Session): SessionState {
  const [s, setS] = useState(session.current);
  useEffect(() => session.subscribe(setS), [session]);
  return s;
}

export interface SignedIn {
  api: ApiClient;
  info: KeyInfo;
  features: Features;
  session: Session;
  /** Whether the key carries a scope. */
  can(scope: string): boolean;
}

/** The signed-in context of every page (pages render only inside a signed-in shell). */
export function useSignedIn(): SignedIn {
  const session = useContext(SessionContext);
  if (!session || session.current.kind !== 'signed-in') throw new Error('useSignedIn outside a signed-in shell');
  const { api, info, features } = session.current;
  return { api, info, features, session, can: (scope) => info.scopes.includes(scope) };
}
