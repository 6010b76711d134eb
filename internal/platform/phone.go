package platform

// MaskPhone shows the first 3 and the last 4 characters of a phone number
// with **** between them (13800138000 becomes 138****8000); a number of
// fewer than 8 characters is all hidden. Status, Events and audit entries
// show phones only this way.
func MaskPhone(phone string) string {
	r := []rune(phone)
	if len(r) < 8 {
		return "****"
	}
	return string(r[:3]) + "****" + string(r[len(r)-4:])
}
