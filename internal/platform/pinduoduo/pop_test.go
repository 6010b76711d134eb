package pinduoduo

import (
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// The signing vector: Pinduoduo's rule applied by hand to these inputs
// (secret testsecret) gives this signature.
func TestSignVector(t *testing.T) {
	g := NewWithT(t)
	params := url.Values{
		"access_token": {"tok"},
		"client_id":    {"cid123"},
		"data_type":    {"JSON"},
		"timestamp":    {"1704135845"},
		"type":         {"pdd.mall.info.get"},
		"version":      {"V1"},
	}
	g.Expect(StringToSign(params)).To(Equal("access_tokentokclient_idcid123data_typeJSONtimestamp1704135845typepdd.mall.info.getversionV1"))
	g.Expect(Sign("testsecret", params)).To(Equal("E469F3AE1A32CD35C9327BC70928CB34"))

	// The sign parameter itself is not signed, and a lower-case signature
	// verifies too; one changed parameter or another secret does not.
	params.Set(ParamSign, "e469f3ae1a32cd35c9327bc70928cb34")
	g.Expect(Sign("testsecret", params)).To(Equal("E469F3AE1A32CD35C9327BC70928CB34"))
	g.Expect(VerifySignature("testsecret", params)).To(BeTrue())
	g.Expect(VerifySignature("othersecret", params)).To(BeFalse())
	params.Set(ParamTimestamp, "1704135846")
	g.Expect(VerifySignature("testsecret", params)).To(BeFalse())
}

func TestResponseKey(t *testing.T) {
	NewWithT(t).Expect(ResponseKey(MethodMallInfo)).To(Equal("mall_info_get_response"))
}

func TestParseEnvelope(t *testing.T) {
	g := NewWithT(t)
	env, err := ParseEnvelope(MethodMallInfo, []byte(`{"mall_info_get_response":{"mall_id":987654321012,"mall_name":"小店","merchant_type":1,"mall_character":0,"request_id":"r1"}}`))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.Error).To(BeNil())
	g.Expect(string(env.Response)).To(ContainSubstring(`"mall_name":"小店"`))

	env, err = ParseEnvelope(MethodMallInfo, []byte(`{"error_response":{"error_code":10019,"error_msg":"access_token已过期","sub_code":"","sub_msg":"","request_id":"r2"}}`))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(env.Error).To(Equal(&ErrorResponse{ErrorCode: 10019, ErrorMsg: "access_token已过期", RequestID: "r2"}))

	for _, bad := range []string{`<html>502</html>`, `{}`, `{"goods_list_get_response":{}}`, `{"mall_info_get_response":"x"}`} {
		_, err := ParseEnvelope(MethodMallInfo, []byte(bad))
		g.Expect(err).To(HaveOccurred(), bad)
	}
}

func TestErrorFrom(t *testing.T) {
	for _, tc := range []struct {
		code  int64
		kind  error
		retry time.Duration
	}{
		{CodeTokenExpired, ErrTokenExpired, 0},
		{CodeThrottled, platform.ErrRateLimited, RetryAfterThrottled},
		{CodeTooFrequent, platform.ErrRateLimited, RetryAfterThrottled},
		{CodeUnavailable, platform.ErrTransient, 0},
		{CodeUnavailableToo, platform.ErrTransient, 0},
		{10000, platform.ErrInvalid, 0},
		{20031, platform.ErrInvalid, 0},
	} {
		g := NewWithT(t)
		err := ErrorFrom(MethodMallInfo, ErrorResponse{ErrorCode: tc.code, ErrorMsg: "msg\nline", SubCode: "sub", SubMsg: "detail", RequestID: "rid"})
		g.Expect(errors.Is(err, tc.kind)).To(BeTrue(), "code %d: %v", tc.code, err)
		g.Expect(err.RetryAfter).To(Equal(tc.retry), "code %d", tc.code)
		g.Expect(err.Message).To(Equal("pdd.mall.info.get: Pinduoduo error " + strconv.FormatInt(tc.code, 10) + " msg line (sub: detail) request_id=rid"))
	}
	// An expired token is an ErrUnauthorized: never retried as it is.
	NewWithT(t).Expect(errors.Is(ErrorFrom(MethodMallInfo, ErrorResponse{ErrorCode: CodeTokenExpired}), platform.ErrUnauthorized)).To(BeTrue())
}
