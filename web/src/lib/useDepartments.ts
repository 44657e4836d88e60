import { useEffect, useState } from 'react';
import { Api, type Department } from '../api';

export function useDepartments() {
  const [departments, setDepartments] = useState<Department[]>([]);
  useEffect(() => { Api.departments().then((r) => setDepartments(r.items)).catch(() => {}); }, []);
  return departments;
}
