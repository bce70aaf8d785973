package commands

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// PasswordCost is the bcrypt cost of stored password hashes.
const PasswordCost = 12

// dummyPasswordHash is compared against when the e-mail is unknown, so an
// unknown address costs the same time as a wrong password (no user
// enumeration by timing). Its password is not a valid login for anyone.
const dummyPasswordHash = "$2a$12$dWJ1uJ.pXyQk4srYxcsskOiM2hHF94hHcWxZjOHzW/DAbZ04Fcbaq"

func hashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), PasswordCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

func passwordMatches(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// burnPasswordCompare spends the time of one comparison and matches nothing.
func burnPasswordCompare(password string) {
	_ = bcrypt.CompareHashAndPassword([]byte(dummyPasswordHash), []byte(password))
}
