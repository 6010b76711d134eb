package top_test

import (
	"net/url"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
)

// vectorParams are the TOP signing test vectors' parameters (computed from
// TOP's published signing rules; docs/taobao-top.md lists them), secret
// testsecret.
func vectorParams(method top.SignMethod) url.Values {
	return url.Values{
		"app_key":     {"12345678"},
		"format":      {"json"},
		"method":      {"taobao.sellercenter.roles.get"},
		"nick":        {"店主"},
		"session":     {"sess"},
		"timestamp":   {"2024-01-02 03:04:05"},
		"v":           {"2.0"},
		"sign_method": {string(method)},
	}
}

func TestSignVectors(t *testing.T) {
	for method, want := range map[top.SignMethod]string{
		top.SignMD5:        "E00EB68D4851591CA78EE92751727D80",
		top.SignHMAC:       "41FEC6EAA4B4EE587D80AE1B9E3D9248",
		top.SignHMACSHA256: "E2A0813E6C0FDE2644B5D68A246511B1528230C309E8ACF72952B44828D96161",
	} {
		t.Run(string(method), func(t *testing.T) {
			g := NewWithT(t)
			params := vectorParams(method)
			got, err := top.Sign(method, "testsecret", params)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(want))

			// sign itself and empty values are not signed.
			params.Set("sign", "whatever")
			params.Set("simplify", "")
			again, err := top.Sign(method, "testsecret", params)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(again).To(Equal(want))

			params.Set("sign", want)
			g.Expect(top.VerifySignature("testsecret", params)).To(BeTrue())
			params.Set("sign", "E"+want[1:]+"0")
			g.Expect(top.VerifySignature("testsecret", params)).To(BeFalse())
			params.Set("sign", want)
			g.Expect(top.VerifySignature("othersecret", params)).To(BeFalse())
			params.Set("nick", "店主2")
			g.Expect(top.VerifySignature("testsecret", params)).To(BeFalse(), "a changed parameter breaks the signature")
		})
	}
}

func TestStringToSign(t *testing.T) {
	g := NewWithT(t)
	q := top.StringToSign(vectorParams(top.SignMD5))
	g.Expect(q).To(Equal("app_key12345678formatjsonmethodtaobao.sellercenter.roles.getnick店主sessionsesssign_methodmd5timestamp2024-01-02 03:04:05v2.0"))
	// Byte order: upper case sorts before lower case, "_" between them.
	g.Expect(top.StringToSign(url.Values{"b": {"1"}, "B": {"2"}, "a_b": {"3"}, "ab": {"4"}})).To(Equal("B2a_b3ab4b1"))
}

func TestSignUnknownMethod(t *testing.T) {
	g := NewWithT(t)
	_, err := top.Sign("sha1", "s", url.Values{})
	g.Expect(err).To(HaveOccurred())
	p := vectorParams("sha1")
	p.Set("sign", "X")
	g.Expect(top.VerifySignature("testsecret", p)).To(BeFalse())
	g.Expect(top.SignMethod("").Valid()).To(BeFalse())
}

func TestTimestampIsGMT8(t *testing.T) {
	g := NewWithT(t)
	utc := time.Date(2024, 1, 1, 19, 4, 5, 0, time.UTC)
	g.Expect(top.FormatTimestamp(utc)).To(Equal("2024-01-02 03:04:05"))
	ny, err := time.LoadLocation("America/New_York")
	if err == nil {
		g.Expect(top.FormatTimestamp(utc.In(ny))).To(Equal("2024-01-02 03:04:05"), "the machine's zone does not matter")
	}
	back, err := top.ParseTimestamp("2024-01-02 03:04:05")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(back.Equal(utc)).To(BeTrue())
}
