package top_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/taobao/top"
)

func TestErrorFrom(t *testing.T) {
	const m = "taobao.sellercenter.roles.get"
	ban := "This ban will last for 17 more seconds"
	for _, tc := range []struct {
		name  string
		in    top.ErrorResponse
		kind  error
		field string
		wait  time.Duration
	}{
		{"7 with ban", top.ErrorResponse{Code: 7, Msg: "App Call Limited", SubCode: top.SubCodeAppAccessCount, SubMsg: ban}, platform.ErrRateLimited, "", 17 * time.Second},
		{"7 ban in msg", top.ErrorResponse{Code: 7, Msg: "App Call Limited, this ban will last for 1 more second"}, platform.ErrRateLimited, "", time.Second},
		{"7 without ban", top.ErrorResponse{Code: 7, Msg: "App Call Limited"}, platform.ErrRateLimited, "", time.Second},
		{"7 huge ban", top.ErrorResponse{Code: 7, SubMsg: "This ban will last for 99999999999999999999999 more seconds"}, platform.ErrRateLimited, "", top.MaxRetryAfter},
		{"accesscontrol sibling", top.ErrorResponse{Code: 15, SubCode: "accesscontrol.limited-by-api-access-count", SubMsg: "This ban will last for 3 more seconds"}, platform.ErrRateLimited, "", 3 * time.Second},
		{"accesscontrol without ban", top.ErrorResponse{SubCode: "accesscontrol.limited-by-session-access-count"}, platform.ErrRateLimited, "", time.Second},
		{"4 user limit", top.ErrorResponse{Code: 4, Msg: "User Call Limited", SubMsg: "This ban will last for 60 more seconds"}, platform.ErrRateLimited, "", time.Minute},
		{"5 session limit", top.ErrorResponse{Code: 5, Msg: "Session Call Limited"}, platform.ErrRateLimited, "", 0},
		{"6 partner limit", top.ErrorResponse{Code: 6, Msg: "Partner Call Limited"}, platform.ErrRateLimited, "", 0},
		{"8 frequency", top.ErrorResponse{Code: 8, Msg: "App Call Exceeds Limited Frequency"}, platform.ErrRateLimited, "", 0},
		{"9 http action", top.ErrorResponse{Code: 9, Msg: "Http Action Not Allowed"}, platform.ErrInvalid, "", 0},
		{"10 unavailable", top.ErrorResponse{Code: 10, Msg: "Service Currently Unavailable"}, platform.ErrTransient, "", 0},
		{"11 isv permissions", top.ErrorResponse{Code: 11, Msg: "Insufficient ISV Permissions"}, platform.ErrForbidden, "", 0},
		{"12 user permissions", top.ErrorResponse{Code: 12, Msg: "Insufficient User Permissions"}, platform.ErrForbidden, "", 0},
		{"15 remote error", top.ErrorResponse{Code: 15, Msg: "Remote service error"}, platform.ErrTransient, "", 0},
		{"15 isp", top.ErrorResponse{Code: 15, Msg: "Remote service error", SubCode: "isp.remote-service-timeout"}, platform.ErrTransient, "", 0},
		{"isp without code", top.ErrorResponse{SubCode: "isp.top-remote-connection-error"}, platform.ErrTransient, "", 0},
		{"15 isv not exist", top.ErrorResponse{Code: 15, SubCode: "isv.subuser-not-exist", SubMsg: "sub_id 1 does not exist"}, platform.ErrNotFound, "", 0},
		{"15 isv name taken", top.ErrorResponse{Code: 15, SubCode: "isv.role-name-exist"}, platform.ErrNameTaken, "", 0},
		{"15 isv duplicate", top.ErrorResponse{Code: 15, SubCode: "isv.name-duplicate"}, platform.ErrNameTaken, "", 0},
		{"15 isv other", top.ErrorResponse{Code: 15, SubCode: "isv.invalid-parameter:permission_codes", SubMsg: "unknown permission codes: nope"}, platform.ErrInvalid, "permissions", 0},
		{"isv other, no field", top.ErrorResponse{Code: 15, SubCode: "isv.business-failed"}, platform.ErrInvalid, "", 0},
		{"21 missing method", top.ErrorResponse{Code: 21, Msg: "Missing Method"}, platform.ErrNotSupported, "", 0},
		{"22 invalid method", top.ErrorResponse{Code: 22, Msg: "Invalid Method"}, platform.ErrNotSupported, "", 0},
		{"23 format", top.ErrorResponse{Code: 23, Msg: "Invalid Format"}, platform.ErrInvalid, "", 0},
		{"24 missing sign", top.ErrorResponse{Code: 24, Msg: "Missing Signature"}, platform.ErrUnauthorized, "", 0},
		{"25 invalid sign", top.ErrorResponse{Code: 25, Msg: "Invalid Signature"}, platform.ErrUnauthorized, "", 0},
		{"26 missing session", top.ErrorResponse{Code: 26, Msg: "Missing Session"}, platform.ErrUnauthorized, "", 0},
		{"27 invalid session", top.ErrorResponse{Code: 27, Msg: "Invalid Session", SubCode: "session-expired"}, platform.ErrUnauthorized, "", 0},
		{"28 missing app key", top.ErrorResponse{Code: 28, Msg: "Missing App Key"}, platform.ErrUnauthorized, "", 0},
		{"29 invalid app key", top.ErrorResponse{Code: 29, Msg: "Invalid App Key"}, platform.ErrUnauthorized, "", 0},
		{"31 timestamp", top.ErrorResponse{Code: 31, Msg: "Invalid Timestamp"}, platform.ErrUnauthorized, "", 0},
		{"33 version", top.ErrorResponse{Code: 33, Msg: "Invalid Version"}, platform.ErrInvalid, "", 0},
		{"40 missing argument", top.ErrorResponse{Code: 40, Msg: "Missing Required Arguments", SubMsg: "Missing required arguments:sub_id"}, platform.ErrInvalid, "id", 0},
		{"41 invalid argument", top.ErrorResponse{Code: 41, Msg: "Invalid Arguments", SubCode: "isv.invalid-parameter", SubMsg: "Invalid arguments:page_size"}, platform.ErrInvalid, "pageSize", 0},
		{"41 field from msg", top.ErrorResponse{Code: 41, Msg: "Invalid arguments:some_param"}, platform.ErrInvalid, "some_param", 0},
		{"41 unparseable", top.ErrorResponse{Code: 41, Msg: "Invalid Arguments", SubMsg: "参数错误"}, platform.ErrInvalid, "", 0},
		{"unknown code", top.ErrorResponse{Code: 999, Msg: "Something"}, platform.ErrTransient, "", 0},
		{"zero code", top.ErrorResponse{}, platform.ErrTransient, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			pe := top.ErrorFrom(m, tc.in)
			g.Expect(errors.Is(pe, tc.kind)).To(BeTrue(), "kind %v, want %v", pe.Kind, tc.kind)
			g.Expect(pe.Field).To(Equal(tc.field))
			g.Expect(pe.RetryAfter).To(Equal(tc.wait))
			g.Expect(pe.Message).To(HavePrefix(m + ": TOP error " + fmt.Sprint(tc.in.Code)))
			if tc.in.SubCode != "" {
				g.Expect(pe.Message).To(ContainSubstring(tc.in.SubCode))
			}
		})
	}
}

func TestErrorFromMessage(t *testing.T) {
	g := NewWithT(t)
	pe := top.ErrorFrom("taobao.subuser.fullinfo.get", top.ErrorResponse{Code: 27, Msg: "Invalid session",
		SubCode: "invalid-sessionkey", SubMsg: "SessionKey非法\r\n", RequestID: "16abc"})
	g.Expect(pe.Error()).To(Equal("unauthorized: taobao.subuser.fullinfo.get: TOP error 27 Invalid session " +
		"(invalid-sessionkey: SessionKey非法  ) request_id=16abc"))
	retry, ok := platform.RetryAfter(top.ErrorFrom("m", top.ErrorResponse{Code: 7, SubMsg: "This ban will last for 5 more seconds"}))
	g.Expect(ok).To(BeTrue())
	g.Expect(retry).To(Equal(5 * time.Second))
}
