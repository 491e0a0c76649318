import type { ComponentType } from 'preact';
import { useEffect, useErrorBoundary, useMemo, useRef, useState } from 'preact/hooks';
import { SessionContext, useSessionState, type Session, type SessionState } from './api/session';
import { Live, LiveContext } from './api/live';
import { PAGES, available, type PageModule, type PageProps } from './modules';
import { match, useLocation } from './router';
import { SignIn } from './pages/sign-in';
import { RenderFailureNotice } from './components/panel';

export function App({ session }: { session: Session }) {
  const state = useSessionState(session);
  return (
    <SessionContext.Provider value={session}>
      {state.kind === 'signed-in' ? (
        <Shell state={state} session={session} />
      ) : state.kind === 'checking' ? (
        <main class="centre" aria-busy="true">
          <p>Checking your key…</p>
        </main>
      ) : (
        <SignIn session={session} reason={state.reason} />
      )}
    </SessionContext.Provider>
  );
}

function Shell({ state, session }: { state: Extract<SessionState, { kind: 'signed-in' }>; session: Session }) {
  const live = useMemo(() => new Live(state.api, state.features), [state.api, state.features]);
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);
  const loc = useLocation();
  const pages = available(PAGES, state.features.has);
  const nav = pages.filter((p) => p.nav).sort((a, b) => a.nav!.order - b.nav!.order);
  let page: PageModule | undefined;
  let params: Record<string, string> = {};
  for (const p of pages) {
    const m = match(p.path, loc.path);
    if (m) {
      page = p;
      params = m;
      break;
    }
  }
  return (
    <LiveContext.Provider value={live}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Dynamo CSMS</span>
        <nav aria-label="Main">
          <ul>
            {nav.map((p) => (
              <li key={p.id}>
                <a href={`#${p.path}`} aria-current={page?.id === p.id ? 'page' : undefined}>
                  {p.nav!.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span title={`key ${state.info.prefix}…, scopes: ${state.info.scopes.join(', ')}`}>
            {state.info.tenant_name} · key “{state.info.name}”
          </span>
          <button type="button" onClick={() => session.signOut('You signed out. The key was removed from this browser tab.')}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page ? <PageHost key={page.id} page={page} props={{ params, query: loc.query }} scopes={state.info.scopes} /> : <NotFound />}
      </main>
    </LiveContext.Provider>
  );
}

function PageHost({ page, props, scopes }: { page: PageModule; props: PageProps; scopes: string[] }) {
  const [Component, setComponent] = useState<ComponentType<PageProps> | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // A page that throws while rendering says so under the header instead of leaving it blank.
  const [renderFailure, retry] = useErrorBoundary();
  useEffect(() => {
    document.title = `${page.title} · Dynamo CSMS`;
    page.load().then(
      (m) => setComponent(() => m.default),
      (err) => setFailed(String(err)),
    );
  }, [page]);
  if (page.scope && !scopes.includes(page.scope)) {
    return (
      <>
        <h1 ref={heading}>{page.title}</h1>
        <p class="notice notice-scope" role="status">
          Your API key cannot open this page: it lacks the scope <code>{page.scope}</code>. Ask for a key that has it.
        </p>
      </>
    );
  }
  if (failed) return <p class="notice notice-error">This page could not be loaded ({failed}). Reload to try again.</p>;
  if (renderFailure) return <RenderFailureNotice what="page" error={renderFailure} retry={retry} />;
  return Component ? <Component {...props} /> : <p aria-busy="true">Loading…</p>;
}

function NotFound() {
  return (
    <>
      <h1>Not found</h1>
      <p>
        There is no such page. <a href="#/">Back to the overview</a>.
      </p>
    </>
  );
}
