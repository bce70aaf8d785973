import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/client'
import { newPasswordErrors, placePasswordError } from './passwords'

describe('newPasswordErrors', () => {
  it('asks for a password and a matching confirmation', () => {
    expect(newPasswordErrors('', '')).toEqual({ password: 'Choose a new password.' })
    expect(newPasswordErrors('long enough pw', 'other')).toEqual({ password_confirmation: 'The two passwords differ.' })
    expect(newPasswordErrors('long enough pw', 'long enough pw')).toEqual({})
  })
})

describe('placePasswordError', () => {
  const fields = ['current_password', 'password', 'password_confirmation']
  it('keeps a field the server named', () => {
    const e = new ApiError(422, { code: 'x', message: 'bad', field: 'password' })
    expect(placePasswordError(e, fields)).toEqual({ fieldErrors: { password: 'bad' }, formError: '' })
  })
  it('places known codes beside their field', () => {
    expect(placePasswordError(new ApiError(422, { code: 'password-too-short', message: 'too short' }), fields).fieldErrors).toEqual({ password: 'too short' })
    expect(placePasswordError(new ApiError(422, { code: 'current-password-wrong', message: 'wrong' }), fields).fieldErrors).toEqual({ current_password: 'wrong' })
  })
  it('leaves a code for a field the form lacks above the form', () => {
    expect(placePasswordError(new ApiError(401, { code: 'invalid-credentials', message: 'no' }), ['password'])).toEqual({ fieldErrors: {}, formError: 'no' })
  })
})
