// Package pixelpb is pixelsim's gRPC API: pixel.proto and the Go code protoc-gen-go and
// protoc-gen-go-grpc generate from it (regenerate with `go generate ./simulator/pixelpb`,
// which needs protoc, protoc-gen-go and protoc-gen-go-grpc on PATH).
package pixelpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative pixel.proto
