/**
 * Figures (plotly.js, offline) and tables (danfo.js) for the notebooks.
 */
export { figure, COLORWAY, DEFAULT_HEIGHT, workbookTemplate } from "./figure";
export type { Figure, Trace, Layout, PlotConfig } from "./figure";
export { toMimeBundle, figureHtml, figureSummary } from "./mimeBundle";
export type { MimeBundle, MimeBundleOptions } from "./mimeBundle";
export { plotlyLibrary, PLOTLY_READY_EVENT } from "./plotlyLibrary";
export type { PlotlyLibrary } from "./plotlyLibrary";
export { show, showPlotlyLibrary, kernelDisplay, plotlyLibrarySent, forgetPlotlyLibrary, htmlPage } from "./show";
export type { HtmlDisplay, ShowOptions, HtmlPageOptions } from "./show";
export { lineChart, emaSmooth } from "./lineChart";
export type { LineSeries, LineChartOptions } from "./lineChart";
export { scatter2d } from "./scatter2d";
export type { Scatter2dOptions } from "./scatter2d";
export { imageGrid } from "./imageGrid";
export type { ImageGridOptions } from "./imageGrid";
export { heatmap } from "./heatmap";
export type { HeatmapOptions } from "./heatmap";
export { barChart } from "./barChart";
export { labelEfficiencyChart } from "./label_efficiency_chart";
export type { LabelEfficiencyChartOptions, LabelEfficiencyChartPoint, LabelEfficiencySeries } from "./label_efficiency_chart";
export type { BarSeries, BarChartOptions } from "./barChart";
export { histogram } from "./histogram";
export type { HistogramSeries, HistogramMarker, HistogramOptions, HistogramNormalization } from "./histogram";
export { encodePng, crc32 } from "./png";
export { escapeHtml } from "./html";
export { readValues, readVector, readPlotLabels, shortestFloat32 } from "./values";
export type { PlotValues, PlotLabels, NumericArray, DenseValues } from "./values";
export { showTable, tableHtml, tableText, toDataFrame, loadDanfo, formatNumber } from "./table";
export type { TableInput, TableRow, TableOptions, DataFrameLike } from "./table";
export { scatterPanels } from "./scatterPanels";
export type { ScatterPanel, ScatterPanelsOptions } from "./scatterPanels";
export { viewsGrid } from "./viewsGrid";
export type { ViewsGridOptions } from "./viewsGrid";
export { filterGrid, imageRows } from "./imageRows";
export type { FilterGridOptions, ImageRow, ImageRowsOptions } from "./imageRows";
export { embeddingScatter } from "./embedding_scatter";
export type { EmbeddingScatterOptions, EmbeddingThumbnails } from "./embedding_scatter";
