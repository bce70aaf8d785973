package domain

// SealedSecret is a secret encrypted (AES-256-GCM) before it enters any
// event or row. KeyID names the key it was sealed with, so keys can rotate.
// The domain never sees plaintext; it only stores and compares sealed values.
type SealedSecret struct {
	KeyID      string `json:"kid"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ct"`
}

func (s SealedSecret) IsZero() bool { return len(s.Ciphertext) == 0 }
