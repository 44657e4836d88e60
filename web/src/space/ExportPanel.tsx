// Downloading a space's conversation: for its owners and moderators, where its policy allows it.
// The server renders the file and puts the export on the audit trail before it sends it.
import type { Space } from '../api';
import Icon from '../components/Icon';

export const exportUrl = (spaceId: number, format: 'text' | 'json') => `/api/v1/spaces/${spaceId}/export?format=${format}`;

export default function ExportPanel({ space, onClose }: { space: Space; onClose: () => void }) {
  const what = space.kind === 'direct' ? 'conversation' : space.kind;
  return (
    <aside className="side-panel" aria-labelledby="export-title">
      <header className="panel-head">
        <h2 id="export-title" tabIndex={-1}>Export</h2>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close export"><Icon name="close" /></button>
      </header>
      <div className="panel-body">
        <p>Download this {what}'s published messages, oldest first, each thread after the message it answers. Files are listed by name, not included.</p>
        <p className="muted small">Held, hidden, removed and deleted messages are left out. Every export is recorded in the audit trail with your name.</p>
        <ul className="export-list">
          <li><a className="button-link small" href={exportUrl(space.id, 'text')} download>Transcript (.txt)</a> <span className="muted small">to read or print</span></li>
          <li><a className="button-link small" href={exportUrl(space.id, 'json')} download>Messages (.json)</a> <span className="muted small">for other systems</span></li>
        </ul>
      </div>
    </aside>
  );
}
