package ws

import "net/url"

// urlHost is the host name of a ws:// or wss:// URL ("" when it does not parse: the dial
// reports the error).
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
