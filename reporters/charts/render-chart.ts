import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration, type Plugin } from 'chart.js';
import type { MarkerOptions } from './line-chart.ts';

/** Default size of every chart: readable on a screen and in a pull request. */
export const CHART_WIDTH = 1200;
export const CHART_HEIGHT = 700;

/** Fills the canvas white before chart.js draws (PNG would otherwise be transparent). */
const whiteBackground: Plugin = {
  id: 'loadbenchWhiteBackground',
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

/**
 * Vertical dashed marker lines with a label at the top, and shaded x ranges, read from
 * `options.plugins.loadbenchMarkers` (see `timelineChart`).
 */
const markerPlugin: Plugin = {
  id: 'loadbenchMarkers',
  beforeDatasetsDraw(chart, _args, options: Partial<MarkerOptions>) {
    const x = chart.scales.x;
    if (!x || !options.bands?.length) return;
    const { ctx, chartArea } = chart;
    ctx.save();
    ctx.fillStyle = 'rgba(0, 0, 0, 0.06)';
    for (const b of options.bands) {
      const from = Math.max(chartArea.left, x.getPixelForValue(b.from));
      const to = Math.min(chartArea.right, x.getPixelForValue(b.to));
      if (to > from) ctx.fillRect(from, chartArea.top, to - from, chartArea.bottom - chartArea.top);
    }
    ctx.restore();
  },
  afterDatasetsDraw(chart, _args, options: Partial<MarkerOptions>) {
    const x = chart.scales.x;
    if (!x || !options.markers?.length) return;
    const { ctx, chartArea } = chart;
    ctx.save();
    ctx.strokeStyle = 'rgba(60, 60, 60, 0.6)';
    ctx.lineWidth = 1;
    ctx.font = `bold 12px ${fontFamily}`;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    for (const m of options.markers) {
      const px = x.getPixelForValue(m.x);
      if (px < chartArea.left - 1 || px > chartArea.right + 1) continue;
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(px, chartArea.top);
      ctx.lineTo(px, chartArea.bottom);
      ctx.stroke();
      // The label on a white patch, so that it stays readable over the curves.
      const y = chartArea.top + 4 + (m.row ?? 0) * 16;
      const w = ctx.measureText(m.label).width;
      const left = Math.min(px + 3, chartArea.right - w - 2);
      ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
      ctx.fillRect(left - 1, y - 1, w + 2, 15);
      ctx.fillStyle = '#333333';
      ctx.fillText(m.label, left, y);
    }
    ctx.restore();
  },
};

Chart.register(...registerables, whiteBackground, markerPlugin);

/** Families tried in this order; the first one installed draws every text of the charts. */
const PREFERRED_FAMILIES = ['DejaVu Sans', 'Liberation Sans', 'Noto Sans', 'Arial', 'Helvetica', 'FreeSans', 'Cantarell'];
const FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts', join(homedir(), '.fonts'), join(homedir(), '.local/share/fonts'), '/System/Library/Fonts', '/Library/Fonts', 'C:\\Windows\\Fonts'];

/**
 * Picks the font family the charts use. @napi-rs/canvas loads the system fonts itself on most
 * machines; when it found none, the usual font folders are registered by hand. Without any
 * font the charts are still written (lines, no text) and one warning says why.
 */
function chooseFontFamily(): string {
  const installed = () => new Set(GlobalFonts.families.map((f) => f.family));
  let families = installed();
  if (families.size === 0) {
    for (const dir of FONT_DIRS) {
      try {
        if (existsSync(dir)) GlobalFonts.loadFontsFromDir(dir);
      } catch {
        // an unreadable folder is just skipped
      }
    }
    families = installed();
  }
  const found = PREFERRED_FAMILIES.find((f) => families.has(f)) ?? [...families].find((f) => !/math|emoji|symbol/i.test(f));
  if (!found) {
    process.emitWarning('loadbench: no font found (looked in the system fonts and /usr/share/fonts): charts will have no text');
    return 'sans-serif';
  }
  return found;
}

const fontFamily = chooseFontFamily();
Chart.defaults.font.family = `'${fontFamily}', sans-serif`;
Chart.defaults.color = '#333333';

/**
 * Renders a chart.js configuration to a PNG with a white background (no DOM: @napi-rs/canvas).
 * Animation and responsiveness are forced off and the pixel ratio to 1, so the first frame is
 * the final one and the PNG is exactly `width` x `height`.
 */
export function renderChartPng(config: ChartConfiguration, width = CHART_WIDTH, height = CHART_HEIGHT): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const chart = new Chart(ctx as unknown as CanvasRenderingContext2D, {
    ...config,
    options: { ...config.options, animation: false, responsive: false, devicePixelRatio: 1 },
  } as ChartConfiguration);
  try {
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
}
