// A message's files, wherever a message is shown in full (a timeline, a thread, the review queue).
import type { Message } from '../api';
import { attachmentUrl, formatBytes, isImage, messageAttachments, opensInline } from '../lib/attachments';
import Icon from './Icon';

/**
 * A message's files: a link to each, named with its size; images with a small thumbnail. Types the
 * server shows inline open in a new tab, anything else is downloaded.
 */
export default function MessageAttachments({ m }: { m: Pick<Message, 'attachments'> }) {
  const files = messageAttachments(m);
  if (files.length === 0) return null;
  return (
    <ul className="attachments" aria-label="Attachments">
      {files.map((a) => {
        const url = attachmentUrl(a.id);
        const size = formatBytes(a.size);
        return (
          <li key={a.id} className={`attachment ${isImage(a.content_type) ? 'attachment-image' : ''}`}>
            <a href={url} className="attachment-link" aria-label={`${a.name}, ${size}`}
              {...(opensInline(a.content_type) ? { target: '_blank', rel: 'noopener noreferrer' } : { download: a.name })}>
              {isImage(a.content_type) && <img className="attachment-thumb" src={url} alt={a.name} loading="lazy" decoding="async" />}
              <span className="attachment-label">
                <Icon name="attach" size={14} />
                <span className="attachment-name">{a.name}</span>
                <span className="attachment-size">{size}</span>
              </span>
            </a>
          </li>
        );
      })}
    </ul>
  );
}
