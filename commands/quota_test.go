package commands_test

import (
	"testing"
)

// TestSetQuotaDuplicateResource: resource names go
// upper-cased, so "storage" and "STORAGE" went as one resource twice,
// with two limits ("(STORAGE 1 STORAGE 2)"): refused before sending.
func TestSetQuotaDuplicateResource(t *testing.T) {
	c, srv, ctx := zzClient(t, "QUOTA", true)
	zzRefused(t, srv, "SetQuota(storage, STORAGE)", func() error {
		_, err := c.SetQuota(ctx, "", map[string]uint64{"storage": 1, "STORAGE": 2})
		return err
	})
}
