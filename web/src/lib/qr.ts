// A QR code as plain data: which modules are dark, and one SVG path drawing them. React renders
// the path as an element, so nothing is injected as markup and no image needs fetching.
import qrcode from 'qrcode-generator';

/** The modules of a QR code holding `text` (byte mode, error correction M), row by row. */
export function qrModules(text: string): boolean[][] {
  const code = qrcode(0, 'M');
  code.addData(text, 'Byte');
  code.make();
  const size = code.getModuleCount();
  return Array.from({ length: size }, (_, row) => Array.from({ length: size }, (_, col) => code.isDark(row, col)));
}

/**
 * One path drawing every dark module as a unit square, offset by `margin` (the quiet zone a
 * scanner needs, four modules by the standard). Runs in a row are joined into one rectangle.
 */
export function qrPath(modules: readonly (readonly boolean[])[], margin = 4): string {
  const parts: string[] = [];
  modules.forEach((cells, row) => {
    let col = 0;
    while (col < cells.length) {
      if (!cells[col]) { col += 1; continue; }
      const start = col;
      while (col < cells.length && cells[col]) col += 1;
      parts.push(`M${start + margin} ${row + margin}h${col - start}v1h-${col - start}z`);
    }
  });
  return parts.join('');
}
