import { useState } from 'preact/hooks';
import type { Session } from '../api/session';

/** Sign-in with an API key; the reason the last key was refused (wrong, revoked, admin) is shown above. */
export function SignIn({ session, reason }: { session: Session; reason: string | null }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <main class="centre sign-in">
      <h1>Dynamo CSMS</h1>
      <p>Sign in with a tenant API key to watch your fleet.</p>
      {reason ? (
        <p class="notice notice-error" role="alert" data-testid="sign-in-reason">
          {reason}
        </p>
      ) : null}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          await session.signIn(key);
          setBusy(false);
          setKey('');
        }}
      >
        <div class="field">
          <label for="api-key">API key</label>
          <input
            id="api-key"
            name="api-key"
            type="password"
            autocomplete="off"
            spellcheck={false}
            value={key}
            onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
            aria-describedby="api-key-hint"
          />
          <span class="control-hint" id="api-key-hint">
            Starts with <code>dyn_key_</code>. It is kept in this browser tab only and forgotten when the tab closes.
          </span>
        </div>
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
      <p class="muted">
        No key? An administrator creates one (<code>POST /api/v1/admin/tenants/&#123;tenant_id&#125;/api-keys</code>); <code>npm run demo</code> prints one.
        API reference: <a href="/docs">/docs</a>.
      </p>
    </main>
  );
}
