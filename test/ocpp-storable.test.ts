import { describe, expect, it } from 'vitest';
import { checkStorableText } from '../src/ocpp/storable.js';

describe('text the history cannot hold', () => {
  it('names the path of the first NUL or unpaired surrogate, and passes storable text', () => {
    const ok = { connectorId: 1, meterValue: [{ timestamp: '2026-12-02T08:00:00Z', sampledValue: [{ value: '12.5', unit: 'kWh' }] }], note: 'ünïcødé 🚗' };
    expect(() => checkStorableText(ok)).not.toThrow();
    expect(() => checkStorableText({ meterValue: [{ sampledValue: [{ value: '1' }, { value: 'x\u0000' }] }] })).toThrow(
      /^meterValue\[0\]\.sampledValue\[1\]\.value: text with a NUL/,
    );
    expect(() => checkStorableText({ idTag: 'T\ud800' })).toThrow(/^idTag: /);
    expect(() => checkStorableText({ data: { ['k\udc00']: 1 } })).toThrow(/^data\.k\udc00: /);
    expect(() => checkStorableText(['a', 'b\u0000'])).toThrow(/^\[1\]: /);
    expect(() => checkStorableText('\u0000')).toThrow(/^payload: /);
  });
});
