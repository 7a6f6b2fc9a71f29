/**
 * The login form: an admin app's name and secret. The secret goes to the hub once, in the body of
 * a same-origin POST, and is dropped from the form at once; the page keeps nothing of it.
 */
import { useState } from 'preact/hooks';

export function Login({ onLogin, message }: { onLogin: (app: string, secret: string) => Promise<void>; message: string | undefined }) {
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const app = (form.elements.namedItem('app') as HTMLInputElement).value.trim();
    const secretInput = form.elements.namedItem('secret') as HTMLInputElement;
    const secret = secretInput.value.trim();
    secretInput.value = '';
    setBusy(true);
    try {
      await onLogin(app, secret);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={(e) => void submit(e)} autocomplete="off" data-form="login">
        <h1>crossbus dashboard</h1>
        <p class="muted">Log in with an admin app of this hub: its name and its secret from the hub’s config.</p>
        {message && (
          <p class="error" role="alert">
            {message}
          </p>
        )}
        <label class="field">
          App
          <input name="app" required autocomplete="username" spellcheck={false} />
        </label>
        <label class="field">
          Secret
          <input name="secret" type="password" required autocomplete="current-password" />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
