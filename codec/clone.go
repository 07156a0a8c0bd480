package codec

import "reflect"

// CloneResponse returns a deep copy of r that borrows nothing from the
// decoder: keep it as long as you like. It returns nil for nil.
func CloneResponse(r Response) Response {
	if r == nil {
		return nil
	}
	v := reflect.ValueOf(r)
	return deepCopy(v).Interface().(Response)
}

var bytesType = reflect.TypeOf(Bytes(nil))

// deepCopy copies v, following pointers and slices. The response types are
// trees (no cycles), so a plain recursion is enough.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(deepCopy(v.Elem()))
		return p
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		if v.Type() == bytesType || v.Type().Elem().Kind() == reflect.Uint8 || v.Type().Elem().Kind() == reflect.Uint32 {
			c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(c, v)
			return c
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			c.Index(i).Set(deepCopy(v.Index(i)))
		}
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		for i := 0; i < v.NumField(); i++ {
			f := c.Field(i)
			if f.CanSet() {
				f.Set(deepCopy(v.Field(i)))
			} else {
				// Unexported fields (SeqSet's ranges): copy through an
				// exported clone method when there is one.
				return cloneOpaque(v)
			}
		}
		return c
	}
	return v
}

// cloneOpaque copies a struct with unexported fields through its Clone
// method.
func cloneOpaque(v reflect.Value) reflect.Value {
	if m := v.MethodByName("Clone"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 && m.Type().Out(0) == v.Type() {
		return m.Call(nil)[0]
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}
