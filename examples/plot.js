// A small SVG line plot, so that the examples write files a person can open in a browser.
export function linePlot({ title, x, series, yLabel, width = 900, height = 420 }) {
  const margin = { left: 64, right: 16, top: 40, bottom: 48 };
  const all = series.flatMap((s) => s.values);
  const [lo, hi] = [Math.min(...all), Math.max(...all)];
  const px = (i) => margin.left + (i / Math.max(x.length - 1, 1)) * (width - margin.left - margin.right);
  const py = (v) => margin.top + (1 - (v - lo) / (hi - lo || 1)) * (height - margin.top - margin.bottom);
  const escape = (text) => String(text).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);
  const ticks = 5;
  const yTicks = Array.from({ length: ticks + 1 }, (_, k) => lo + ((hi - lo) * k) / ticks);
  const xTicks = Array.from({ length: 6 }, (_, k) => Math.round((k * (x.length - 1)) / 5));
  const lines = series.map((s) => `<polyline fill="none" stroke="${s.colour}" stroke-width="1.6" points="${s.values.map((v, i) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`);
  const legend = series.map((s, k) => `<g transform="translate(${margin.left + 10 + k * 160},${margin.top + 14})"><rect width="14" height="3" y="-4" fill="${s.colour}"/><text x="20" font-size="12">${escape(s.name)}</text></g>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="22" text-anchor="middle" font-size="13">${escape(title)}</text>
${yTicks.map((v) => `<line x1="${margin.left}" x2="${width - margin.right}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/><text x="${margin.left - 6}" y="${py(v) + 4}" text-anchor="end" font-size="11">${v.toFixed(1)}</text>`).join('\n')}
${xTicks.map((i, k) => `<text x="${px(i)}" y="${height - margin.bottom + 16}" text-anchor="${k === 0 ? 'start' : k === xTicks.length - 1 ? 'end' : 'middle'}" font-size="11">${escape(x[i])}</text>`).join('\n')}
<text transform="translate(16,${height / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escape(yLabel)}</text>
${lines.join('\n')}
${legend.join('\n')}
</svg>
`;
}

/** A matrix as a grid of shaded cells (darker is larger), e.g. attention weights. */
export function heatmap({ title, matrix, rowLabels, columnLabels, cell = 22 }) {
  const margin = { left: 48, top: 64, right: 16, bottom: 16 };
  const [rows, cols] = [matrix.length, matrix[0]?.length ?? 0];
  const width = margin.left + cols * cell + margin.right;
  const height = margin.top + rows * cell + margin.bottom;
  const escape = (text) => String(text).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);
  const cells = matrix.flatMap((row, r) =>
    row.map((v, c) => {
      const shade = Math.round(255 * (1 - Math.min(1, Math.max(0, v))));
      return `<rect x="${margin.left + c * cell}" y="${margin.top + r * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#ddd"/>`;
    }),
  );
  const top = columnLabels.map((l, c) => `<text x="${margin.left + c * cell + cell / 2}" y="${margin.top - 6}" text-anchor="middle" font-size="12" font-family="monospace">${escape(l === ' ' ? '␣' : l)}</text>`);
  const left = rowLabels.map((l, r) => `<text x="${margin.left - 8}" y="${margin.top + r * cell + cell / 2 + 4}" text-anchor="end" font-size="12" font-family="monospace">${escape(l)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${margin.left}" y="22" font-size="13">${escape(title)}</text>
${cells.join('\n')}
${top.join('\n')}
${left.join('\n')}
</svg>
`;
}
