package codec_test

import (
	"reflect"
	"testing"

	"github.com/imapkit/imapkit/codec"
	"github.com/imapkit/imapkit/internal/corpus"
)

// reflectClone is the reflection deep copy that CloneResponse was before
// the per-type clones. It is kept as the oracle of the clone tests and as
// the "before" of BenchmarkCloneFetchMetadata.
func reflectClone(r codec.Response) codec.Response {
	if r == nil {
		return nil
	}
	return reflectCopy(reflect.ValueOf(r)).Interface().(codec.Response)
}

var reflectBytesType = reflect.TypeOf(codec.Bytes(nil))

// reflectCopy copies v, following pointers and slices. The response types
// are trees (no cycles), so a plain recursion is enough.
func reflectCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(reflectCopy(v.Elem()))
		return p
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		if v.Type() == reflectBytesType || v.Type().Elem().Kind() == reflect.Uint8 || v.Type().Elem().Kind() == reflect.Uint32 {
			c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(c, v)
			return c
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			c.Index(i).Set(reflectCopy(v.Index(i)))
		}
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		for i := 0; i < v.NumField(); i++ {
			f := c.Field(i)
			if f.CanSet() {
				f.Set(reflectCopy(v.Field(i)))
			} else {
				// Unexported fields (SeqSet's ranges): copy through the
				// exported Clone method.
				return reflectOpaque(v)
			}
		}
		return c
	}
	return v
}

// reflectOpaque copies a struct with unexported fields through its Clone
// method.
func reflectOpaque(v reflect.Value) reflect.Value {
	if m := v.MethodByName("Clone"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 && m.Type().Out(0) == v.Type() {
		return m.Call(nil)[0]
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

// BenchmarkCloneFetchMetadata clones the FETCH responses of
// BenchmarkDecodeFetchMetadata, one message per iteration: ns/op, B/op and
// allocs/op are per message. "reflect" is the reflection copy that
// CloneResponse was before (reflectClone), "CloneResponse" the one it is.
func BenchmarkCloneFetchMetadata(b *testing.B) {
	const n = 1000
	rs := decodeAllClones(b, corpus.FetchMetadata(n))
	for _, bc := range []struct {
		name  string
		clone func(codec.Response) codec.Response
	}{
		{"reflect", reflectClone},
		{"CloneResponse", codec.CloneResponse},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if bc.clone(rs[i%n]) == nil {
					b.Fatal("nil clone")
				}
			}
		})
	}
}
