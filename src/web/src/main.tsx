import { render } from 'preact';
import { App } from './app';
import { Session } from './api/session';
import './styles.css';

// The one place the dashboard is wired: a session over this tab's sessionStorage.
const session = new Session(sessionStorage);
render(<App session={session} />, document.getElementById('app')!);
void session.resume();
