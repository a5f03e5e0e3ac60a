package provider

// generic is any provider claimcheck has no particular knowledge of: it
// recognises nothing and explains nothing beyond what the claims show.
func generic() Provider {
	return Provider{Name: Generic, Title: "a generic OpenID provider"}
}
