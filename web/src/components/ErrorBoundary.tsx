// A screen that throws while rendering shows a way out instead of a blank page.
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface State { error: Error | null }

export default class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State { return { error }; }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    // Only the error's shape goes to the console: never message content.
    console.error('screen failed', error.name, info.componentStack?.split('\n')[1]?.trim());
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <section className="page" role="alert">
        <h1>This screen could not be shown</h1>
        <p>Something unexpected happened. Your messages are safe on the server.</p>
        <p>
          <button type="button" onClick={() => this.setState({ error: null })}>Try again</button>{' '}
          <a href="#/" onClick={() => this.setState({ error: null })}>Go to the start page</a>
        </p>
      </section>
    );
  }
}
