/**
 * The dashboard's shell: the login until there is a session, then the bus connection and the
 * views. A person's activity keeps the session alive (the hub's idle expiry); when the session
 * ends the hub closes the bus connection, and the page goes back to the login.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, currentSession, login, logout, type SessionInfo } from './api';
import { connectBus, type DashboardBus } from './bus';
import { describeError } from './poll';
import { Alerts } from './views/alerts';
import { Audit } from './views/audit';
import { Consent } from './views/consent';
import { DeadLetters } from './views/dead-letters';
import { Deployments } from './views/deployments';
import { Latency } from './views/latency';
import { Login } from './views/login';
import { Overview } from './views/overview';
import { Streams } from './views/streams';

const VIEWS = [
  { id: 'overview', title: 'Overview', view: Overview },
  { id: 'latency', title: 'Latency', view: Latency },
  { id: 'streams', title: 'Streams', view: Streams },
  { id: 'dead-letters', title: 'Dead letters', view: DeadLetters },
  { id: 'consent', title: 'Consent', view: Consent },
  { id: 'audit', title: 'Audit log', view: Audit },
  { id: 'alerts', title: 'Alerts', view: Alerts },
  { id: 'deployments', title: 'Deployments', view: Deployments },
] as const;

/** Activity refreshes the session at most this often. */
const TOUCH_EVERY_MS = 30_000;

type Phase =
  | { phase: 'checking' }
  | { phase: 'login'; message?: string }
  | { phase: 'connecting'; session: SessionInfo }
  | { phase: 'ready'; session: SessionInfo; bus: DashboardBus };

const viewOfHash = (): string => {
  const id = location.hash.replace(/^#\/?/, '');
  return VIEWS.some((v) => v.id === id) ? id : 'overview';
};

export function App() {
  const [state, setState] = useState<Phase>({ phase: 'checking' });
  const [view, setView] = useState(viewOfHash);
  const busRef = useRef<DashboardBus | undefined>(undefined);

  const toLogin = useCallback((message?: string) => {
    const bus = busRef.current;
    busRef.current = undefined;
    void bus?.close();
    setState(message === undefined ? { phase: 'login' } : { phase: 'login', message });
  }, []);

  const start = useCallback(
    async (session: SessionInfo) => {
      setState({ phase: 'connecting', session });
      try {
        const bus = await connectBus(session);
        busRef.current = bus;
        // The hub closes the connection when the session ends: see whether it did.
        bus.on('closed', () => {
          if (busRef.current !== bus) return;
          currentSession().then(
            (s) => void start(s),
            () => toLogin('Your session ended: log in again.'),
          );
        });
        setState({ phase: 'ready', session, bus });
      } catch (err) {
        toLogin(err instanceof ApiError && err.code === 'CB_ERR_AUTH_REQUIRED' ? 'Your session ended: log in again.' : describeError(err));
      }
    },
    [toLogin],
  );

  useEffect(() => {
    currentSession().then(
      (s) => void start(s),
      () => setState({ phase: 'login' }),
    );
    const onHash = (): void => setView(viewOfHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, [start]);

  // A person working in the page keeps the session alive; an ended session sends them to the login.
  useEffect(() => {
    if (state.phase !== 'ready') return;
    let last = Date.now();
    const onActivity = (): void => {
      if (Date.now() - last < TOUCH_EVERY_MS) return;
      last = Date.now();
      currentSession().catch(() => toLogin('Your session ended: log in again.'));
    };
    addEventListener('pointerdown', onActivity);
    addEventListener('keydown', onActivity);
    return () => {
      removeEventListener('pointerdown', onActivity);
      removeEventListener('keydown', onActivity);
    };
  }, [state.phase, toLogin]);

  const onLogin = async (app: string, secret: string): Promise<void> => {
    try {
      await start(await login(app, secret));
    } catch (err) {
      setState({ phase: 'login', message: err instanceof ApiError ? `${err.code}: ${err.message}` : describeError(err) });
    }
  };

  if (state.phase === 'checking') return <p class="muted center">Loading…</p>;
  if (state.phase === 'login') return <Login onLogin={onLogin} message={state.message} />;
  if (state.phase === 'connecting') return <p class="muted center">Connecting to the bus as {state.session.app}…</p>;
  const { session, bus } = state;
  const Current = (VIEWS.find((v) => v.id === view) ?? VIEWS[0]).view;
  return (
    <div class="shell">
      <header>
        <span class="brand">crossbus</span>
        <nav aria-label="Views">
          {VIEWS.map((v) => (
            <a key={v.id} href={`#/${v.id}`} aria-current={v.id === view ? 'page' : undefined} data-nav={v.id}>
              {v.title}
            </a>
          ))}
        </nav>
        <span class="who">
          {session.app}{' '}
          <button
            type="button"
            class="link"
            onClick={() => {
              busRef.current = undefined;
              void bus.close();
              logout(session.csrf).finally(() => setState({ phase: 'login', message: 'Logged out.' }));
            }}
          >
            Log out
          </button>
        </span>
      </header>
      <main>
        <h1>{(VIEWS.find((v) => v.id === view) ?? VIEWS[0]).title}</h1>
        <Current bus={bus} />
      </main>
    </div>
  );
}
