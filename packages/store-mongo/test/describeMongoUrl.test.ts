import { describe, expect, it } from 'vitest';
import { describeMongoUrl } from '../src/index.js';

describe('describeMongoUrl: how a server is named in messages', () => {
  it('keeps scheme, hosts and database, and drops user, password and options', () => {
    expect(describeMongoUrl('mongodb://ops:s3cret@db1:27017,db2:27017/nexus?replicaSet=rs0&authSource=admin')).toBe(
      'mongodb://db1:27017,db2:27017/nexus',
    );
    expect(describeMongoUrl('mongodb+srv://ops:p%40ss@cluster.example.net/?retryWrites=true')).toBe('mongodb+srv://cluster.example.net/');
    expect(describeMongoUrl('mongodb://127.0.0.1:27117/?replicaSet=rs0')).toBe('mongodb://127.0.0.1:27117/');
    // An unescaped @ in the password: everything up to the last @ of the authority is userinfo.
    expect(describeMongoUrl('mongodb://ops:pa@ss@db1/nexus')).toBe('mongodb://db1/nexus');
  });

  it('names nothing from a string it cannot read', () => {
    expect(describeMongoUrl('ops:s3cret@db1')).toBe('mongodb://(unparsable url)');
  });
});
