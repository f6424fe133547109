package output

import (
	"bytes"
	"encoding/csv"
	"unicode/utf8"
)

func isUTF8(s string) bool { return utf8.ValidString(s) }

func readCSV(row []byte) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(row))
	r.LazyQuotes = false
	return r.Read()
}

func readCSVAll(data []byte) ([][]string, error) {
	return csv.NewReader(bytes.NewReader(data)).ReadAll()
}
