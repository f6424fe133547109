package output

import (
	"bytes"
	"encoding/csv"
)

func readCSVAll(data []byte) ([][]string, error) {
	return csv.NewReader(bytes.NewReader(data)).ReadAll()
}
