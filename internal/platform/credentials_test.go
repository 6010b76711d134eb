package platform_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// Printing credentials, alone or inside another struct, with any verb or
// logger never shows the app secret or the access token.
func TestCredentialsAreRedactedWhenPrinted(t *testing.T) {
	g := NewWithT(t)
	const secret, token = "app-secret-S3CR3T", "access-T0K3N"
	c := platform.Credentials{AppKey: "key-1", AppSecret: secret, AccessToken: token}
	type holder struct {
		Name  string
		Creds platform.Credentials
		Ptr   *platform.Credentials
	}
	h := holder{Name: "shop", Creds: c, Ptr: &c}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%10.3s"} {
		out = append(out, fmt.Sprintf(verb, c), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &c), fmt.Sprintf(verb, []platform.Credentials{c}))
	}
	out = append(out, c.String(), c.GoString(), fmt.Sprint(c), fmt.Sprintln(h))

	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("x", "creds", c, "holder", h)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("x", "creds", c)
	out = append(out, text.String(), js.String())
	var logged string
	funcr.NewJSON(func(obj string) { logged += obj }, funcr.Options{}).Info("x", "creds", c)
	out = append(out, logged)

	for _, s := range out {
		g.Expect(s).NotTo(ContainSubstring("S3CR3T"))
		g.Expect(s).NotTo(ContainSubstring("T0K3N"))
	}
	g.Expect(fmt.Sprintf("%v", c)).To(Equal("{AppKey:key-1 AppSecret:[redacted] AccessToken:[redacted]}"))
	g.Expect(fmt.Sprintf("%#v", c)).To(Equal(`platform.Credentials{AppKey:"key-1", AppSecret:"[redacted]", AccessToken:"[redacted]"}`))
	g.Expect(fmt.Sprintf("%v", platform.Credentials{AppKey: "k"})).To(Equal("{AppKey:k AppSecret: AccessToken:}"), "unset secrets show as empty")
	g.Expect(js.String()).To(ContainSubstring(`"appKey":"key-1"`))
	g.Expect(logged).To(ContainSubstring(`"appKey":"key-1"`))

	// encoding/json keeps every field: the memory platform's state file
	// holds the shops' credentials.
	data, err := json.Marshal(c)
	g.Expect(err).NotTo(HaveOccurred())
	var back platform.Credentials
	g.Expect(json.Unmarshal(data, &back)).To(Succeed())
	g.Expect(back == c).To(BeTrue())
}
