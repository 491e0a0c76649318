import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (`#/chargers/CP-1?status=faulted`): the service serves one index.html and needs
 * no fallback route, and a page's filters survive a reload and can be shared. A hash never
 * reaches the server, and never holds the key.
 */
export interface Location {
  path: string;
  query: URLSearchParams;
}

export function currentLocation(): Location {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query] = raw.split('?', 2) as [string, string | undefined];
  return { path: path || '/', query: new URLSearchParams(query ?? '') };
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(currentLocation);
  useEffect(() => {
    const on = () => setLoc(currentLocation());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return loc;
}

/** The href of a route; query values that are empty are left out. */
export function href(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

/** Replaces the query of the current route (filters, sort, page) without a new history entry per keystroke. */
export function setQuery(query: Record<string, string | number | undefined | null>, replace = true): void {
  const next = href(currentLocation().path, query);
  if (replace) history.replaceState(null, '', next);
  else history.pushState(null, '', next);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** Matches `/chargers/:id` against a path; params are decoded. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const want = p[i]!;
    const got = s[i]!;
    if (want.startsWith(':')) {
      if (!got) return null;
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        return null;
      }
    } else if (want !== got) return null;
  }
  return params;
}
