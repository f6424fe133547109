// Package k6file owns k6's result-file formats: the NDJSON records of `--out json` and the
// CSV rows of `--out csv`. Both sides live here and are tested against each other:
//
//   - the encoders (Encoder for NDJSON, CSVEncoder for CSV) write what k6 writes, byte for
//     byte on the recorded k6 files in testdata, without allocating per sample;
//   - the Scanner reads either format back, shaped like bufio.Scanner: Scan, Record, Err.
//     A line that is not a valid record is not fatal: it is a *SyntaxError with its line
//     number, counted (BadLines) and handed to OnSyntaxError, and scanning goes on. Lines
//     have no length limit short of 1 GiB.
//
// The Metric-record metadata (a metric's thresholds as the script wrote them and its
// submetrics, in k6's order) is built in one place, MetricInfos.
//
// NDJSON records, one per line:
//
//	{"type":"Metric","data":{"name":N,"type":T,"contains":C,"thresholds":[...],"submetrics":null|[...]},"metric":N}
//	{"metric":N,"type":"Point","data":{"time":RFC3339Nano UTC,"value":V,"tags":{sorted},"metadata":{sorted}}}
//
// CSV: a header, then one row per sample: metric_name, timestamp (in the TimeFormat of
// K6_CSV_TIME_FORMAT), metric_value (six decimals), one column per common tag, extra_tags
// and metadata as k=v&k=v.
//
// FastPoint and ParseLine are the two halves of the NDJSON line decoder, exported for the
// analyzer's parallel reader, which cuts big files into blocks and parses them on several
// goroutines: it gives exactly the records the Scanner gives (a differential test checks it).
package k6file
