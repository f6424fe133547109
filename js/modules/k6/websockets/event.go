package websockets

import (
	"slices"
	"time"

	"github.com/dop251/goja"
)

// eventObject holds an event's properties for a goja dynamic object. A socket makes an
// event per message, and filling a plain object property by property cost more than the
// rest of the message's handling; this is one allocation, and it behaves as the plain
// object for scripts: properties read, set, added, deleted and enumerated in order.
type eventObject struct {
	keys []string // shared with the other events of its kind until a script changes the set
	own  bool     // keys is this event's own copy
	vals []goja.Value
	buf  [5]goja.Value
}

// The properties every event has, and a message event's.
var (
	eventKeys   = []string{"type", "target", "timestamp"}
	messageKeys = []string{"type", "target", "timestamp", "data", "origin"}
)

var _ goja.DynamicObject = (*eventObject)(nil)

// newEvent returns an event of type ev from s, stamped now, with the values of extra keys
// (messageKeys' data and origin) after the three every event has.
func (s *socket) newEvent(ev string, keys []string, extra ...goja.Value) *goja.Object {
	e := &eventObject{keys: keys}
	e.buf[0], e.buf[1], e.buf[2] = s.m.name(ev), s.obj, s.rt.ToValue(float64(time.Now().UnixNano())/1e6)
	n := copy(e.buf[3:], extra)
	e.vals = e.buf[:3+n]
	return s.rt.NewDynamicObject(e)
}

func (e *eventObject) index(key string) int {
	for i, k := range e.keys {
		if k == key {
			return i
		}
	}
	return -1
}

// Get implements goja.DynamicObject.
func (e *eventObject) Get(key string) goja.Value {
	if i := e.index(key); i >= 0 {
		return e.vals[i]
	}
	return nil
}

// Set implements goja.DynamicObject.
func (e *eventObject) Set(key string, val goja.Value) bool {
	if i := e.index(key); i >= 0 {
		e.vals[i] = val
		return true
	}
	e.ownKeys()
	e.keys = append(e.keys, key)
	e.vals = append(e.vals, val)
	return true
}

// Has implements goja.DynamicObject.
func (e *eventObject) Has(key string) bool { return e.index(key) >= 0 }

// Delete implements goja.DynamicObject.
func (e *eventObject) Delete(key string) bool {
	if i := e.index(key); i >= 0 {
		e.ownKeys()
		e.keys = slices.Delete(e.keys, i, i+1)
		e.vals = slices.Delete(e.vals, i, i+1)
	}
	return true
}

// Keys implements goja.DynamicObject.
func (e *eventObject) Keys() []string { return slices.Clone(e.keys) }

func (e *eventObject) ownKeys() {
	if !e.own {
		e.keys = slices.Clone(e.keys)
		e.own = true
	}
}
