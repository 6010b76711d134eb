package platform_test

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func TestWithSource(t *testing.T) {
	g := NewWithT(t)
	g.Expect(platform.SourceFrom(context.Background())).To(BeEmpty())
	g.Expect(platform.SourceFrom(platform.WithSource(context.Background(), "Role/ns/客服"))).To(Equal("Role/ns/客服"))
	g.Expect(platform.SourceFrom(platform.WithSource(context.Background(), "Role/ns/x\r\nX-Evil: 1"))).To(Equal("Role/ns/xX-Evil: 1"))
	g.Expect(platform.SourceFrom(platform.WithSource(context.Background(), strings.Repeat("界", 400)))).To(HaveLen(510))
}
