import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration, type Plugin } from 'chart.js';

Chart.register(...registerables);

/** Default size of every chart: readable on a screen and in a pull request. */
export const CHART_WIDTH = 1200;
export const CHART_HEIGHT = 700;

const whiteBackground: Plugin = {
  id: 'loadbench-white-background',
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

/** Vertical marker lines with a label at the top, e.g. level boundaries on the timeline. */
export interface VerticalMarker {
  x: number;
  label: string;
}

function markerPlugin(markers: VerticalMarker[]): Plugin {
  return {
    id: 'loadbench-markers',
    afterDatasetsDraw(chart) {
      const x = chart.scales.x;
      if (!x || markers.length === 0) return;
      const { ctx, chartArea } = chart;
      ctx.save();
      ctx.strokeStyle = 'rgba(90, 90, 90, 0.55)';
      ctx.fillStyle = '#444444';
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 4]);
      ctx.font = '12px sans-serif';
      ctx.textAlign = 'left';
      for (const m of markers) {
        const px = x.getPixelForValue(m.x);
        if (px < chartArea.left - 1 || px > chartArea.right + 1) continue;
        ctx.beginPath();
        ctx.moveTo(px, chartArea.top);
        ctx.lineTo(px, chartArea.bottom);
        ctx.stroke();
        ctx.fillText(m.label, px + 3, chartArea.top + 12);
      }
      ctx.restore();
    },
  };
}

/**
 * Renders a chart.js configuration to a PNG with a white background (no DOM: @napi-rs/canvas).
 * Animation and responsiveness are forced off so the first frame is the final one.
 */
export function renderChartPng(
  config: ChartConfiguration,
  width = CHART_WIDTH,
  height = CHART_HEIGHT,
  markers: VerticalMarker[] = [],
): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const chart = new Chart(ctx as unknown as CanvasRenderingContext2D, {
    ...config,
    options: { ...config.options, animation: false, responsive: false, devicePixelRatio: 1 },
    plugins: [...(config.plugins ?? []), whiteBackground, markerPlugin(markers)],
  } as ChartConfiguration);
  try {
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
}
