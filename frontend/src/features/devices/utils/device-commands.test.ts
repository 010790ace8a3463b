// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { deviceCommands, shellQuote } from './device-commands';

describe('deviceCommands', () => {
  it('gives a curl line and simulator commands for the device and its key', () => {
    const commands = deviceCommands({
      deviceId: 'boiler-7',
      apiKey: 'rEiJDk5-Tbbe6hYSsuFfeNjYZqfiAWowECu31wLeIJM',
      origin: 'http://localhost:8000',
      mqttHost: 'localhost',
    });
    expect(commands.curl).toBe(
      "curl -X POST http://localhost:8000/api/devices/boiler-7/telemetry/ -H 'X-API-Key: rEiJDk5-Tbbe6hYSsuFfeNjYZqfiAWowECu31wLeIJM'" +
        ` -H 'Content-Type: application/json' -d '{"temperature": 24.5, "humidity": 41}'`,
    );
    expect(commands.simulatorHttp).toBe(
      'python simulator/simulator.py --device-id boiler-7 --http http://localhost:8000 --api-key rEiJDk5-Tbbe6hYSsuFfeNjYZqfiAWowECu31wLeIJM',
    );
    expect(commands.simulatorMqtt).toBe(
      'python simulator/simulator.py --device-id boiler-7 --host localhost --username boiler-7 --password rEiJDk5-Tbbe6hYSsuFfeNjYZqfiAWowECu31wLeIJM',
    );
  });
});

describe('shellQuote', () => {
  it('leaves safe words alone and single-quotes the rest', () => {
    expect(shellQuote('device_1.a-b')).toBe('device_1.a-b');
    expect(shellQuote('X-API-Key: k')).toBe("'X-API-Key: k'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});
