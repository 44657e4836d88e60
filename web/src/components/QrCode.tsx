// A QR code drawn as inline SVG (dark modules on white, with the quiet zone around them).
import { useMemo } from 'react';
import { qrModules, qrPath } from '../lib/qr';

const MARGIN = 4;

export default function QrCode({ text, label, size = 200 }: { text: string; label: string; size?: number }) {
  const { path, extent } = useMemo(() => {
    const modules = qrModules(text);
    return { path: qrPath(modules, MARGIN), extent: modules.length + 2 * MARGIN };
  }, [text]);
  return (
    <svg className="qr-code" role="img" aria-label={label} width={size} height={size}
      viewBox={`0 0 ${extent} ${extent}`} shapeRendering="crispEdges" data-testid="mfa-qr">
      <rect width={extent} height={extent} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
