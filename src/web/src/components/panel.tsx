import type { ComponentChildren } from 'preact';
import type { ApiFailure } from '../api/client';

/** What a failed request means to the operator; a missing scope says which one. */
export function FailureNotice({ error }: { error: ApiFailure }) {
  if (error.code === 'missing_scope') {
    return (
      <p class="notice notice-scope" role="status">
        Your API key cannot show this: {error.message.replace(/^this API key/, 'it')}.
      </p>
    );
  }
  return (
    <p class="notice notice-error" role="alert">
      {error.message}
      {error.requestId ? <span class="muted"> (request {error.requestId})</span> : null}
    </p>
  );
}

/** A titled region of a page with its loading and error states. */
export function Panel(props: {
  title: string;
  id?: string;
  error?: ApiFailure;
  loading?: boolean;
  actions?: ComponentChildren;
  children?: ComponentChildren;
  class?: string;
}) {
  const headingId = `${props.id ?? props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-h`;
  return (
    <section class={`panel ${props.class ?? ''}`} aria-labelledby={headingId} aria-busy={props.loading ? 'true' : 'false'}>
      <div class="panel-head">
        <h2 id={headingId}>{props.title}</h2>
        {props.actions ? <div class="panel-actions">{props.actions}</div> : null}
      </div>
      {props.error ? <FailureNotice error={props.error} /> : null}
      {props.children}
    </section>
  );
}

/** A control the key's scopes do not allow: shown disabled, with the reason beside it. */
export function NeedsScope({ scope, has, children }: { scope: string; has: boolean; children: ComponentChildren }) {
  if (has) return <>{children}</>;
  return (
    <div class="needs-scope">
      <fieldset disabled>{children}</fieldset>
      <p class="notice notice-scope">
        Disabled: your API key lacks the scope <code>{scope}</code>.
      </p>
    </div>
  );
}

/** What a page or section shows when it threw while drawing: the error, and a way to draw it again. */
export function RenderFailureNotice({ what, error, retry }: { what: string; error: unknown; retry: () => void }) {
  return (
    <p class="notice notice-error" role="alert">
      This {what} failed to show ({String(error)}).{' '}
      <button type="button" onClick={retry}>
        Try again
      </button>
    </p>
  );
}
