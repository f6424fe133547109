// Package pixelpb is pixelsim's gRPC API: pixel.proto, the Go code protoc-gen-go and
// protoc-gen-go-grpc generate from it, and pixel.protoset (the compiled descriptors, for
// k6/net/grpc's client.loadProtoset). Regenerate with `go generate ./simulator/pixelpb`,
// which needs protoc (Debian's protobuf-compiler), protoc-gen-go and protoc-gen-go-grpc on
// PATH.
package pixelpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative pixel.proto
//go:generate protoc --descriptor_set_out=pixel.protoset --include_imports pixel.proto
